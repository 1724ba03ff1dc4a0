/**
 * generate-conversation: POST a persona, an emotional arc, a training topic and a tier; Claude writes the
 * conversation; its response is stored raw in Storage before anything parses it. docs/GENERATE.md.
 *
 * next: shared/generate/handler.ts → shared/generate/generate.ts → Storage trigger on_raw_object_stored →
 * parse-conversation
 */
import { anthropicClaudeClient } from "../../../shared/adapters/anthropic_claude_client.ts";
import { postgresConversationRepo } from "../../../shared/adapters/postgres_conversation_repo.ts";
import { createSql } from "../../../shared/adapters/postgres_sql.ts";
import { postgresUsageLimiter } from "../../../shared/adapters/postgres_usage_limiter.ts";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";
import { platformEnv } from "../../../shared/env.ts";
import { settingsFromEnv } from "../../../shared/generate/config.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";
import { handleGenerateConversation } from "../../../shared/generate/handler.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { redactInLogs } from "../../../shared/log.ts";

const env = platformEnv(Deno.env);
const settings = settingsFromEnv(Deno.env);
for (const secret of [settings.claude.apiKey, ...env.serviceKeys]) redactInLogs(secret);

const sql = createSql(env.dbUrl);

Deno.serve(serveHandler(
  handleGenerateConversation({
    repo: postgresConversationRepo(sql),
    store: supabaseObjectStore(env.supabaseUrl, env.serviceKey),
    claude: anthropicClaudeClient(settings.claude),
    clock: systemClock,
    config: settings.generate,
    serviceKeys: env.serviceKeys,
    limits: postgresUsageLimiter(sql),
  }),
  "generate-conversation",
));
