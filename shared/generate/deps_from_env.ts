/**
 * generate-conversation's dependencies from the hosted environment, validated once at boot (a missing
 * ANTHROPIC_API_KEY or an out-of-range setting fails the worker's boot). Settings: shared/generate/config.ts
 * and docs/GENERATE.md.
 */
import { anthropicClaudeClient } from "../adapters/anthropic_claude_client.ts";
import { postgresConversationRepo } from "../adapters/postgres_conversation_repo.ts";
import { createSql } from "../adapters/postgres_sql.ts";
import { postgresUsageLimiter } from "../adapters/postgres_usage_limiter.ts";
import { supabaseObjectStore } from "../adapters/supabase_object_store.ts";
import { type EnvSource, platformFromEnv } from "../env.ts";
import { redactInLogs } from "../log.ts";
import { systemClock } from "../pipeline/clock.ts";
import { settingsFromEnv } from "./config.ts";
import type { GenerateHandlerDeps } from "./handler.ts";

/** The generate flow's adapters over one connection pool; the API key and service keys are redacted in logs. */
export function generateDepsFromEnv(env: EnvSource): GenerateHandlerDeps {
  const platform = platformFromEnv(env);
  const settings = settingsFromEnv(env);
  for (const secret of [settings.claude.apiKey, ...platform.serviceKeys]) redactInLogs(secret);
  const sql = createSql(platform.dbUrl);
  return {
    repo: postgresConversationRepo(sql),
    store: supabaseObjectStore(platform.supabaseUrl, platform.serviceKey),
    claude: anthropicClaudeClient(settings.claude),
    clock: systemClock,
    config: settings.generate,
    serviceKeys: platform.serviceKeys,
    limits: postgresUsageLimiter(sql),
  };
}
