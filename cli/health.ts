/**
 * `deno task health [--json] [--check] [--db-url URL] [--via-function [--url URL] [--service-key KEY]]`
 *
 * The monitor's summary for a person at a terminal: the checklist's raw_storage_health numbers, every rule's
 * state, value and threshold, the last hours and the notices waiting for delivery. Read only: it evaluates
 * without recording alerts or sending anything (the cron-driven function does that).
 *
 * Two sources, same summary:
 *   default         SQL on the database (DATABASE_URL, or --db-url, or the local stack) — works while the
 *                   functions or the gateway are down, which is when you most want to look
 *   --via-function  a dry run of storage-health-monitor with the service key (SUPABASE_URL and
 *                   SUPABASE_SERVICE_ROLE_KEY, or the local stack's stack.env.json): checks the deployed path
 * --json prints the function's JSON instead of the table; --check exits 1 when a rule fires (for scripts).
 */
import { join } from "node:path";
import { parseCli } from "./_cli.ts";
import { setLogSink } from "../shared/log.ts";
import { databaseUrl, stateDir } from "../local/paths.ts";
import { noAlertSink } from "../shared/monitor/alert_sink.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { postgresMonitorStore } from "../shared/adapters/postgres_monitor_store.ts";
import { formatSummary } from "../shared/monitor/format_summary.ts";
import { type MonitorSummary, runMonitor } from "../shared/monitor/run_monitor.ts";

/** The summary computed with SQL, without writing anything. */
export async function readHealthSummary(dbUrl: string): Promise<MonitorSummary> {
  const sql = createSql(dbUrl, { max: 1 });
  try {
    return await runMonitor({ store: postgresMonitorStore(sql), sink: noAlertSink() }, { dryRun: true });
  } finally {
    await sql.end();
  }
}

/** The summary from a dry run of the deployed function. */
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

function localStack(): { url?: string; key?: string; db?: string } {
  try {
    const env = JSON.parse(Deno.readTextFileSync(join(stateDir(), "stack.env.json")));
    return { url: env.SUPABASE_URL, key: env.SUPABASE_SERVICE_ROLE_KEY, db: env.SUPABASE_DB_URL };
  } catch {
    return {};
  }
}

if (import.meta.main) {
  const { values } = parseCli("health", import.meta.url, {
    json: { type: "boolean", default: false },
    check: { type: "boolean", default: false },
    "db-url": { type: "string" },
    "via-function": { type: "boolean", default: false },
    url: { type: "string" },
    "service-key": { type: "string" },
  });
  // Logs (the monitor's JSON lines) go to stderr: stdout is the table (or the JSON with --json).
  setLogSink((line) => console.error(line));
  try {
    let summary: MonitorSummary;
    if (values["via-function"]) {
      const local = localStack();
      const url = values.url ?? Deno.env.get("SUPABASE_URL") ?? local.url;
      const key = values["service-key"] ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? local.key;
      if (!url || !key) {
        throw new Error("Cannot call the function: pass --url and --service-key (or start the local stack)");
      }
      summary = await fetchHealthSummary(url, key);
    } else {
      summary = await readHealthSummary(values["db-url"] ?? databaseUrl());
    }
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    else {
      const color = Deno.stdout.isTerminal() && Deno.env.get("NO_COLOR") === undefined;
      console.log(formatSummary(summary, { color }));
    }
    Deno.exit(values.check && summary.status === "firing" ? 1 : 0);
  } catch (err) {
    console.error(`[health] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(2);
  }
}
