/**
 * The parse function's dependencies from the hosted environment, validated once at boot (a bad setting fails
 * the worker's boot, not the first request). Settings and defaults: docs/PARSE_FLOW.md "Settings".
 */
import { systemClock } from "../pipeline/clock.ts";
import { createSql } from "../adapters/postgres_sql.ts";
import { supabaseObjectStore } from "../adapters/supabase_object_store.ts";
import { DEFAULT_PARSE_QUEUE_SETTINGS, postgresParseQueue } from "../adapters/postgres_parse_queue.ts";
import { type EnvSource, numberFromEnv, platformFromEnv } from "../env.ts";
import { redactInLogs } from "../log.ts";
import { createParser, DEFAULT_MAX_RAW_BYTES, PARSER_VERSION } from "../parse/mod.ts";
import { DEFAULT_BATCH_BUDGET_MS, type ParseHandlerDeps } from "./handle_parse_conversation.ts";

/**
 * Called once at boot. Throws (so the worker fails to boot) when a platform setting is missing or a `PARSE_*`
 * number is not a non-negative number; registers every service key with `redactInLogs`. Concurrency, spool batch and the
 * database pool are at least 1 whatever the setting says. Opens no connection: the pool connects on first use.
 */
export function parseHandlerDepsFromEnv(env: EnvSource): ParseHandlerDeps {
  const platform = platformFromEnv(env);
  for (const key of platform.serviceKeys) redactInLogs(key);
  const d = DEFAULT_PARSE_QUEUE_SETTINGS;
  const settings = {
    leaseSeconds: numberFromEnv(env, "PARSE_LEASE_SECONDS", d.leaseSeconds),
    maxInfraFailures: numberFromEnv(env, "PARSE_MAX_INFRA_FAILURES", d.maxInfraFailures),
    backoffBaseSeconds: numberFromEnv(env, "PARSE_BACKOFF_BASE_SECONDS", d.backoffBaseSeconds),
    backoffCapSeconds: numberFromEnv(env, "PARSE_BACKOFF_CAP_SECONDS", d.backoffCapSeconds),
    spoolLeaseSeconds: numberFromEnv(env, "PARSE_SPOOL_LEASE_SECONDS", d.spoolLeaseSeconds),
  };
  const concurrency = numberFromEnv(env, "PARSE_CONCURRENCY", 4);
  const sql = createSql(platform.dbUrl, { max: Math.max(1, concurrency) });
  return {
    flow: {
      queue: postgresParseQueue(sql, settings),
      store: supabaseObjectStore(platform.supabaseUrl, platform.serviceKey),
      parse: createParser({
        maxRawBytes: numberFromEnv(env, "PARSE_MAX_RAW_BYTES", DEFAULT_MAX_RAW_BYTES),
      }),
      parserVersion: PARSER_VERSION,
      clock: systemClock,
    },
    serviceKeys: platform.serviceKeys,
    concurrency: Math.max(1, concurrency),
    spoolBatch: Math.max(1, numberFromEnv(env, "PARSE_SPOOL_BATCH", 10)),
    batchBudgetMs: numberFromEnv(env, "PARSE_BATCH_BUDGET_MS", DEFAULT_BATCH_BUDGET_MS),
  };
}
