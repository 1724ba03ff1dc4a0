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
import { fetchHealthSummary, readHealthSummary } from "../local/health_summary.ts";
import { parseCli } from "../local/parse_cli.ts";
import { databaseUrl } from "../local/paths.ts";
import { tryReadStackEnv } from "../local/stack_env.ts";
import { setLogSink } from "../shared/log.ts";
import { formatSummary } from "../shared/monitor/format_summary.ts";
import type { MonitorSummary } from "../shared/monitor/run_monitor.ts";

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
      const local = tryReadStackEnv();
      const url = values.url ?? Deno.env.get("SUPABASE_URL") ?? local?.SUPABASE_URL;
      const key = values["service-key"] ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ??
        local?.SUPABASE_SERVICE_ROLE_KEY;
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
