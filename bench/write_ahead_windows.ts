/**
 * `deno run -A bench/write_ahead_windows.ts [--since ISO] [--log <gateway.log>]`
 *
 * The in-memory window of generate-conversation as the deployed function measured it: every `raw_written_ahead`
 * log line (from the last stream event to the commit of the write-ahead statement, `memory_window_ms`) in the
 * local gateway's log (function stdout is copied there), since a time. Prints p50 / p90 / p99 / max, split by
 * whether the write-ahead committed (`written`) or failed (the database unavailable: then the answer stayed in
 * memory until the upload), and the stream checkpoints those requests wrote. Results: docs/BENCHMARKS.md.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stateDir } from "../local/paths.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { since: { type: "string", default: "1970-01-01T00:00:00Z" }, log: { type: "string" } },
});
const file = values.log ?? join(stateDir(), "gateway.log");
const since = String(values.since);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const groups = new Map<string, number[]>();
let checkpoints = 0;
let checkpointMs = 0;
for (const line of Deno.readTextFileSync(file).split("\n")) {
  if (!line.includes("raw_written_ahead")) continue;
  let outer: { ts?: string; line?: string };
  try {
    outer = JSON.parse(line);
  } catch {
    continue;
  }
  if (!outer.line || (outer.ts ?? "") < since) continue;
  const l = JSON.parse(outer.line);
  if (l.event !== "raw_written_ahead") continue;
  const key = l.written ? "written" : "not_written";
  groups.set(key, [...(groups.get(key) ?? []), Number(l.memory_window_ms)]);
  checkpoints += Number(l.checkpoints ?? 0);
  checkpointMs += Number(l.checkpoint_write_ms ?? 0);
}
for (const [key, values] of groups) {
  const s = values.sort((a, b) => a - b);
  console.log(JSON.stringify({
    write_ahead: key,
    requests: s.length,
    window_ms: { p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1] },
  }));
}
console.log(JSON.stringify({ checkpoints, checkpoint_write_ms_total: Math.round(checkpointMs) }));
