/**
 * storage-health-monitor's dependencies from the hosted environment, validated once at boot (a bad
 * ALERT_WEBHOOK_URL fails the worker's boot, not the first alert). Settings: shared/monitor/monitor_env.ts.
 */
import { createSql } from "../adapters/postgres_sql.ts";
import { postgresMonitorStore } from "../adapters/postgres_monitor_store.ts";
import { webhookAlertSink } from "../adapters/webhook_alert_sink.ts";
import { type EnvSource, platformFromEnv } from "../env.ts";
import { redactInLogs } from "../log.ts";
import { noAlertSink } from "./alert_sink.ts";
import type { StorageHealthMonitorDeps } from "./handle_storage_health_monitor.ts";
import { monitorSettingsFromEnv } from "./monitor_env.ts";

/** The monitor's adapters and settings; alerts are recorded but not sent when no webhook is configured. */
export function monitorDepsFromEnv(env: EnvSource): StorageHealthMonitorDeps {
  const platform = platformFromEnv(env);
  // Like every function holding the service key: it never reaches a log line, whatever field it ends up in.
  for (const key of platform.serviceKeys) redactInLogs(key);
  const settings = monitorSettingsFromEnv(env);
  return {
    store: postgresMonitorStore(createSql(platform.dbUrl, { max: 2 })),
    sink: settings.webhookUrl
      ? webhookAlertSink(settings.webhookUrl, { timeoutMs: settings.webhookTimeoutMs })
      : noAlertSink(),
    environment: settings.environment,
    serviceKeys: platform.serviceKeys,
  };
}
