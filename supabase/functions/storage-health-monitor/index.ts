// storage-health-monitor: the checklist's monitoring and alerts, every 5 minutes (pg_cron → pg_net).
// called by: cron job `storage-health-monitor` (20251120000400_schedule_monitor_and_retention.sql)
// next: shared/monitor/handle_storage_health_monitor.ts → run_monitor.ts → evaluate_rules.ts
import { serveHandler } from "../../../shared/http/serve.ts";
import { monitorDepsFromEnv } from "../../../shared/monitor/deps_from_env.ts";
import { handleStorageHealthMonitor } from "../../../shared/monitor/handle_storage_health_monitor.ts";

const deps = monitorDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleStorageHealthMonitor(deps), "storage-health-monitor"));
