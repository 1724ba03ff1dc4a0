// raw-retention: deletes old raw objects of completed conversations (opt-in: RAW_RETENTION_DAYS), daily.
// called by: cron job `raw-retention` (20251120000400_schedule_monitor_and_retention.sql)
// next: shared/retention/handle_raw_retention.ts → run_raw_retention.ts
import { createSql } from "../../../shared/adapters/postgres_sql.ts";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";
import { postgresRetentionStore } from "../../../shared/adapters/postgres_retention_store.ts";
import { platformEnv } from "../../../shared/env.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { redactInLogs } from "../../../shared/log.ts";
import { handleRawRetention } from "../../../shared/retention/handle_raw_retention.ts";
import { retentionConfigFromEnv } from "../../../shared/retention/retention_env.ts";

const env = platformEnv(Deno.env);
// Like every function holding the service key: it never reaches a log line, whatever field it ends up in.
for (const key of env.serviceKeys) redactInLogs(key);

const deps = {
  store: postgresRetentionStore(createSql(env.dbUrl, { max: 2 })),
  objects: supabaseObjectStore(env.supabaseUrl, env.serviceKey),
  config: retentionConfigFromEnv(Deno.env),
  serviceKeys: env.serviceKeys,
};

Deno.serve(serveHandler(handleRawRetention(deps), "raw-retention"));
