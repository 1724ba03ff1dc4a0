// raw-retention: deletes old raw objects of completed conversations (opt-in: RAW_RETENTION_DAYS), daily.
// called by: cron job `raw-retention` (20251120000400_schedule_monitor_and_retention.sql)
// next: shared/retention/handle_raw_retention.ts → run_raw_retention.ts
import { serveHandler } from "../../../shared/http/serve.ts";
import { retentionDepsFromEnv } from "../../../shared/retention/deps_from_env.ts";
import { handleRawRetention } from "../../../shared/retention/handle_raw_retention.ts";

const deps = retentionDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleRawRetention(deps), "raw-retention"));
