/**
 * The batch functions' dependencies from the hosted environment, validated once at boot: the same Claude and
 * generate settings as generate-conversation (shared/generate/config.ts: ANTHROPIC_API_KEY, model, max_tokens,
 * structured outputs) plus the batch settings (shared/batch/batch_env.ts).
 */
import { anthropicBatchApi } from "../adapters/anthropic_batch_api.ts";
import { postgresBatchStore } from "../adapters/postgres_batch_store.ts";
import { postgresConversationRepo } from "../adapters/postgres_conversation_repo.ts";
import { createSql } from "../adapters/postgres_sql.ts";
import { supabaseObjectStore } from "../adapters/supabase_object_store.ts";
import { type EnvSource, platformFromEnv } from "../env.ts";
import { settingsFromEnv } from "../generate/config.ts";
import { redactInLogs } from "../log.ts";
import { systemClock } from "../pipeline/clock.ts";
import { batchSettingsFromEnv } from "./batch_env.ts";
import type { CollectBatchesDeps } from "./handle_collect_batches.ts";
import type { GenerateBatchDeps } from "./handle_generate_batch.ts";

/** The bucket of results files (migration 20251210000000). */
export const RESULTS_BUCKET = "batch-results";

function common(env: EnvSource) {
  const platform = platformFromEnv(env);
  const settings = settingsFromEnv(env);
  for (const secret of [settings.claude.apiKey, ...platform.serviceKeys]) redactInLogs(secret);
  const api = anthropicBatchApi({
    apiKey: settings.claude.apiKey,
    baseURL: settings.claude.baseURL,
    timeoutMs: settings.claude.timeoutMs,
    standinBehavior: settings.claude.standinBehavior,
  });
  const sql = createSql(platform.dbUrl);
  return { platform, settings, api, sql, batch: batchSettingsFromEnv(env) };
}

/** generate-batch: the scaffolding reader of generate, the batch store and the Batches API. */
export function generateBatchDepsFromEnv(env: EnvSource): GenerateBatchDeps {
  const { platform, settings, api, sql, batch } = common(env);
  return {
    repo: postgresConversationRepo(sql),
    store: postgresBatchStore(sql),
    api,
    clock: systemClock,
    model: settings.generate.model,
    defaultMaxTokens: settings.generate.maxTokens,
    structuredOutputs: settings.claude.structuredOutputs,
    serviceKeys: platform.serviceKeys,
    settings: batch,
  };
}

/** collect-batches: the batch store, the Batches API and both buckets. */
export function collectBatchesDepsFromEnv(env: EnvSource): CollectBatchesDeps {
  const { platform, api, sql, batch } = common(env);
  return {
    store: postgresBatchStore(sql),
    api,
    results: supabaseObjectStore(platform.supabaseUrl, platform.serviceKey, RESULTS_BUCKET),
    raw: supabaseObjectStore(platform.supabaseUrl, platform.serviceKey),
    clock: systemClock,
    settings: batch,
    serviceKeys: platform.serviceKeys,
  };
}
