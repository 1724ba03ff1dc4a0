/**
 * The monitor's summary, read two ways for people and scripts (cli/health.ts, ./bin/start's last table):
 * computed with SQL as a dry run (works while the functions are down), or from a dry run of the deployed
 * storage-health-monitor function (checks the deployed path). Neither records alerts or sends anything.
 */
import { noAlertSink } from "../shared/monitor/alert_sink.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { postgresMonitorStore } from "../shared/adapters/postgres_monitor_store.ts";
import { type MonitorSummary, runMonitor } from "../shared/monitor/run_monitor.ts";

/** The summary computed with SQL, without writing anything (one connection, closed before returning). */
export async function readHealthSummary(dbUrl: string): Promise<MonitorSummary> {
  const sql = createSql(dbUrl, { max: 1 });
  try {
    return await runMonitor({ store: postgresMonitorStore(sql), sink: noAlertSink() }, { dryRun: true });
  } finally {
    await sql.end();
  }
}

/** The summary from a dry run of the deployed function; throws with the function's status and body otherwise. */
export async function fetchHealthSummary(projectUrl: string, key: string): Promise<MonitorSummary> {
  const res = await fetch(`${projectUrl.replace(/\/$/, "")}/functions/v1/storage-health-monitor`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ dry_run: true }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`Cannot read the health summary: storage-health-monitor answered ${res.status} ${text}`);
  }
  return JSON.parse(text) as MonitorSummary;
}
