// storage-health-monitor: the checklist's monitoring and alerts, every 5 minutes (pg_cron → pg_net).
// called by: cron job `storage-health-monitor` (20251120000400_schedule_monitor_and_retention.sql)
// next: shared/monitor/handle_storage_health_monitor.ts → run_monitor.ts → evaluate_rules.ts
import { noAlertSink } from "../../../shared/monitor/alert_sink.ts";
import { webhookAlertSink } from "../../../shared/adapters/webhook_alert_sink.ts";
import { createSql } from "../../../shared/adapters/postgres_sql.ts";
import { postgresMonitorStore } from "../../../shared/adapters/postgres_monitor_store.ts";
import { platformEnv } from "../../../shared/env.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { redactInLogs } from "../../../shared/log.ts";
import { handleStorageHealthMonitor } from "../../../shared/monitor/handle_storage_health_monitor.ts";
import { monitorEnvFrom } from "../../../shared/monitor/monitor_env.ts";

const env = platformEnv(Deno.env);
// Like every function holding the service key: it never reaches a log line, whatever field it ends up in.
for (const key of env.serviceKeys) redactInLogs(key);
const settings = monitorEnvFrom(Deno.env);

const deps = {
  store: postgresMonitorStore(createSql(env.dbUrl, { max: 2 })),
  sink: settings.webhookUrl
    ? webhookAlertSink(settings.webhookUrl, { timeoutMs: settings.webhookTimeoutMs })
    : noAlertSink(),
  environment: settings.environment,
  serviceKeys: env.serviceKeys,
};

Deno.serve(serveHandler(handleStorageHealthMonitor(deps), "storage-health-monitor"));
