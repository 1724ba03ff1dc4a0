/**
 * The monitor's summary as a table for a person at a terminal (`deno task health`, and the main job's closing
 * health report). Pure: takes the JSON the function answers with, returns text.
 */
import type { MonitorSummary, RuleSummary } from "./run_monitor.ts";
import { formatRuleValue } from "./rules.ts";

export interface FormatOptions {
  /** ANSI colours (a TTY without NO_COLOR). */
  color?: boolean;
  now?: Date;
}

const ANSI = {
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  green: "\x1b[32m",
  dim: "\x1b[2m",
  bold: "\x1b[1m",
  off: "\x1b[0m",
};

function paint(on: boolean, code: keyof typeof ANSI, s: string): string {
  return on ? `${ANSI[code]}${s}${ANSI.off}` : s;
}

/** Pads to a width measured in characters, so colour codes added afterwards do not shift columns. */
function table(rows: string[][], style?: (row: number, col: number, cell: string) => string): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows.map((r, i) =>
    "  " + r.map((cell, c) => {
      const padded = c === r.length - 1 ? cell : cell + " ".repeat(widths[c] - [...cell].length);
      return style ? style(i, c, padded) : padded;
    }).join("  ").trimEnd()
  );
}

function utc(iso: string): string {
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?(Z|\+00:00)$/, " UTC");
}

function ago(iso: string, now: Date): string {
  const min = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 60_000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

function num(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined) return "-";
  return v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function ruleNote(r: RuleSummary, now: Date): string {
  const parts: string[] = [];
  if (r.firing_since && r.state === "firing") {
    parts.push(`since ${utc(r.firing_since)} (${ago(r.firing_since, now)})`);
  }
  if (r.note) parts.push(r.note);
  if (r.sample !== null && r.window_minutes !== null && !r.note) {
    parts.push(`${num(r.sample)} finished in the last ${r.window_minutes} min`);
  }
  return parts.join("; ");
}

/** The exclusive parse outcomes of raw_storage_health's rows, in the order they are printed. */
const OUTCOMES: ReadonlyArray<[string, string]> = [
  ["direct", "direct"],
  ["extracted", "extracted"],
  ["jsonrepair", "jsonrepair"],
  ["manual", "manual"],
  ["in_review", "in review"],
  ["not_parsed", "not parsed yet"],
];

/** What each count on the screen counts, so they can be reconciled. */
export const COUNTS_LEGEND: readonly string[] = [
  'How the counts relate: "conversations" are the last 24 h\'s conversations with a raw response; the "=" line',
  'splits them by parse outcome (manual = fixed in review; in review = waiting there). "by status" counts every',
  "conversation of the 24 h, also those still generating or that failed before Claude answered. The hourly rows",
  "are the 24 h rows by hour of creation, last 6 hours only (FAILED = in review, PENDING = not parsed yet). Parse",
  "failure rate = in review / parses finished in its window (the NOTE column gives that sample).",
];

/**
 * The summary as the text `deno task health` prints: health, pipeline counts, rules, alerts and notifications,
 * followed by `COUNTS_LEGEND` when the summary carries parse outcomes. ANSI colours only when `opts.color` is
 * true (default false, so files and pipes get plain text); ages are measured from `opts.now`, else `checked_at`.
 */
export function formatSummary(s: MonitorSummary, opts: FormatOptions = {}): string {
  const color = opts.color ?? false;
  const now = opts.now ?? new Date(s.checked_at);
  const out: string[] = [];
  const status = s.status === "firing"
    ? paint(color, "red", `FIRING (${s.firing.length})`)
    : paint(color, "green", "OK");
  out.push(
    `${paint(color, "bold", "Pipeline health")}  ${utc(s.checked_at)}  ${status}` +
      (s.dry_run ? paint(color, "dim", "  (read only: nothing recorded, nothing sent)") : ""),
  );

  const h = s.health;
  out.push("", "Last 24 hours (raw_storage_health)");
  out.push(
    `  conversations ${num(h.total_conversations)} · in review ${num(h.manual_review_count)} · direct ` +
      `${num(h.direct_parse_count)} · jsonrepair ${num(h.jsonrepair_count)} · raw ${
        num(h.raw_storage_mb, 1)
      } MB · ` +
      `avg parse attempts ${num(h.avg_parse_attempts, 2)}`,
  );
  const o = s.pipeline.outcomes;
  if (o) {
    // Exclusive outcomes of the same rows: they add up to "conversations" above.
    const parts = OUTCOMES.map(([key, label]) => `${label} ${num(o[key] ?? 0)}`);
    const sum = OUTCOMES.reduce((acc, [key]) => acc + (o[key] ?? 0), 0);
    out.push(`  = ${parts.join(" + ")}${sum === h.total_conversations ? "" : ` (sum ${num(sum)})`}`);
  }
  if (h.generated_count !== undefined) {
    out.push(
      `  by source: generated ${num(h.generated_count)} · uploaded ${num(h.uploaded_count)} (in review ${
        num(h.uploaded_manual_review_count)
      }) · other ${num(h.other_source_count)}`,
    );
  }
  const statuses = Object.entries(s.pipeline.status_counts).sort((a, b) => b[1] - a[1]);
  if (statuses.length > 0) {
    const all = statuses.reduce((acc, [, v]) => acc + v, 0);
    out.push(
      `  by status: ${statuses.map(([k, v]) => `${k} ${num(v)}`).join(" · ")}` +
        (o ? ` (${num(all)}: every conversation of the 24 h, also those without a raw response yet)` : ""),
    );
  }

  out.push("", "Rules");
  const rows = [["STATE", "RULE", "VALUE", "THRESHOLD", "NOTE"]];
  for (const r of s.rules) {
    rows.push([
      r.state === "firing" ? "FIRING" : r.state,
      r.title,
      formatRuleValue(r.unit, r.value),
      r.threshold === null ? "-" : `> ${formatRuleValue(r.unit, r.threshold)}`,
      ruleNote(r, now),
    ]);
  }
  out.push(...table(rows, (row, col, cell) => {
    if (row === 0) return paint(color, "dim", cell);
    if (col !== 0) return cell;
    const state = s.rules[row - 1].state;
    if (state === "firing") return paint(color, "red", cell);
    if (state === "ok") return paint(color, "green", cell);
    return paint(color, "yellow", cell);
  }));

  if (s.hourly.length > 0) {
    out.push("", "Last hours (parse_success_hourly, storage_growth_hourly)");
    const methods = s.hourly.every((x) => x.extracted !== undefined);
    out.push(...table([
      methods
        ? ["HOUR", "TOTAL", "DIRECT", "EXTRACTED", "JSONREPAIR", "MANUAL", "FAILED", "PENDING", "RAW MB"]
        : ["HOUR", "TOTAL", "DIRECT", "FAILED", "RAW MB"],
      ...s.hourly.map((x) =>
        methods
          ? [
            utc(x.hour),
            num(x.total),
            num(x.direct),
            num(x.extracted),
            num(x.jsonrepair),
            num(x.manual),
            num(x.failed),
            num(x.pending),
            num(x.mb_per_hour, 1),
          ]
          : [utc(x.hour), num(x.total), num(x.direct), num(x.failed), num(x.mb_per_hour, 1)]
      ),
    ], (row, _c, cell) => row === 0 ? paint(color, "dim", cell) : cell));
  }
  if (o) out.push("", ...COUNTS_LEGEND.map((l) => paint(color, "dim", l)));

  const n = s.notifications;
  const alertLine = s.dry_run
    ? `Alerts: ${n.pending} notice(s) waiting for delivery`
    : `Alerts: webhook ${
      n.webhook === "configured" ? "configured" : "not configured (ALERT_WEBHOOK_URL)"
    }; ` +
      `delivered ${n.delivered}, failed ${n.failed}, pending ${n.pending}`;
  out.push("", alertLine);
  if (s.alerts.opened.length + s.alerts.escalated.length + s.alerts.resolved.length > 0) {
    const verb = s.dry_run ? "would " : "";
    const changes = [
      s.alerts.opened.length ? `${verb}open ${s.alerts.opened.join(", ")}` : "",
      s.alerts.escalated.length ? `${verb}escalate ${s.alerts.escalated.join(", ")}` : "",
      s.alerts.resolved.length ? `${verb}resolve ${s.alerts.resolved.join(", ")}` : "",
    ].filter(Boolean);
    out.push(`  ${changes.join("; ")}`);
  }
  for (const e of n.errors) out.push(`  ${paint(color, "yellow", e)}`);
  if (s.unknown_rules.length > 0) {
    out.push(
      paint(color, "yellow", `  alert_thresholds rows with unknown rules: ${s.unknown_rules.join(", ")}`),
    );
  }
  return out.join("\n");
}
