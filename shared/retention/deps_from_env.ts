/**
 * raw-retention's dependencies from the hosted environment, validated once at boot (a typo such as
 * RAW_RETENTION_DAYS=30d fails the worker's boot). Settings: shared/retention/retention_env.ts.
 */
import { createSql } from "../adapters/postgres_sql.ts";
import { postgresRetentionStore } from "../adapters/postgres_retention_store.ts";
import { supabaseObjectStore } from "../adapters/supabase_object_store.ts";
import { type EnvSource, platformFromEnv } from "../env.ts";
import { redactInLogs } from "../log.ts";
import type { RawRetentionHandlerDeps } from "./handle_raw_retention.ts";
import { retentionConfigFromEnv } from "./retention_env.ts";

/** Retention's adapters and settings; with RAW_RETENTION_DAYS unset the function runs and deletes nothing. */
export function retentionDepsFromEnv(env: EnvSource): RawRetentionHandlerDeps {
  const platform = platformFromEnv(env);
  // Like every function holding the service key: it never reaches a log line, whatever field it ends up in.
  for (const key of platform.serviceKeys) redactInLogs(key);
  return {
    store: postgresRetentionStore(createSql(platform.dbUrl, { max: 2 })),
    objects: supabaseObjectStore(platform.supabaseUrl, platform.serviceKey),
    config: retentionConfigFromEnv(env),
    serviceKeys: platform.serviceKeys,
  };
}
