/**
 * What the main job prints once the batch has settled: the results table (conversation, status, method,
 * time), a one-line outcome, where to look at the review queue, and the stack's URLs like `supabase start`.
 * Pure: results and settings in, text out (tests/unit/local/demo/report_test.ts).
 */
import type { DemoItem } from "./plan.ts";

/** The statuses a conversation does not leave by itself (docs/PIPELINE.md). */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  "completed",
  "parse_failed",
  "generation_failed",
]);

/** The row as the demo reads it back from public.conversations. */
export interface ConversationState {
  conversation_id: string;
  processing_status: string;
  parse_method_used: string | null;
  requires_manual_review: boolean;
  turn_count: number | null;
  parse_error_message: string | null;
  generation_error: string | null;
  cost_usd: number | null;
  /** created_at → updated_at: from the request's insert to the last state change. */
  seconds: number;
}

/** generate-conversation's answer; `status` 0 when no HTTP answer arrived (connection refused, timeout). */
export interface HttpAnswer {
  status: number;
  conversationId: string | null;
  /** processing_status in the answer: what the progress shows until the row is read. */
  processingStatus: string | null;
  errorCode: string | null;
  message: string | null;
  ms: number;
}

export interface ItemResult {
  item: DemoItem;
  answer: HttpAnswer | null;
  row: ConversationState | null;
}

export interface DemoOutcome {
  results: ItemResult[];
  elapsedMs: number;
  timedOut: boolean;
  realClaude: boolean;
  behavior: string | null;
}

const ANSI = { red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", dim: "\x1b[2m", off: "\x1b[0m" };
type Paint = keyof typeof ANSI;

function paint(on: boolean, code: Paint, s: string): string {
  return on ? `${ANSI[code]}${s}${ANSI.off}` : s;
}

/** The request was answered (or gave up) and no conversation row exists for it: nothing to wait for. */
export function hasNoConversation(r: ItemResult): boolean {
  return r.answer !== null && r.answer.conversationId === null && r.row === null;
}

export function isSettled(r: ItemResult): boolean {
  if (r.row) return TERMINAL_STATUSES.has(r.row.processing_status);
  // No row to wait for: the request failed before the function made one (or no answer came at all).
  return hasNoConversation(r);
}

/** The status column: the row's status, or why there is no row. */
export function statusOf(r: ItemResult): string {
  if (r.row) return r.row.processing_status;
  if (!r.answer) return "not sent";
  if (r.answer.status === 0) return "no answer";
  if (r.answer.conversationId) return "row missing";
  return `http ${r.answer.status}`;
}

/** 41 ms, 1.4 s, 93 s: milliseconds matter with the stand-in, seconds with the real API. */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}

function shorten(s: string, max: number): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** The last column: what a person wants to know next about this conversation. */
export function detailOf(r: ItemResult): string {
  const row = r.row;
  if (!row) {
    const a = r.answer;
    if (!a) return "";
    return shorten([a.errorCode, a.message].filter(Boolean).join(": "), 60);
  }
  switch (row.processing_status) {
    case "completed":
      return row.turn_count === null ? "" : `${row.turn_count} turns`;
    case "parse_failed":
      return shorten(`in review: ${row.parse_error_message ?? "no reason recorded"}`, 60);
    case "generation_failed":
      return shorten(row.generation_error ?? r.answer?.message ?? "", 60);
    default:
      return "still in progress";
  }
}

function table(rows: string[][], style: (row: number, col: number, cell: string) => string): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? "")].length)));
  return rows.map((r, i) =>
    "  " + r.map((cell, c) => {
      const padded = c === r.length - 1 ? cell : cell + " ".repeat(widths[c] - [...cell].length);
      return style(i, c, padded);
    }).join("  ").trimEnd()
  );
}

export function formatResultsTable(results: ItemResult[], opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const rows = [["#", "CONVERSATION", "STATUS", "METHOD", "TIME", "DETAIL"]];
  for (const r of results) {
    const time = r.row ? r.row.seconds : r.answer ? r.answer.ms / 1000 : null;
    rows.push([
      String(r.item.n),
      r.row?.conversation_id ?? r.answer?.conversationId ?? "-",
      statusOf(r),
      r.row?.parse_method_used ?? "-",
      time === null ? "-" : formatDuration(time),
      detailOf(r),
    ]);
  }
  return table(rows, (row, col, cell) => {
    if (row === 0) return paint(color, "dim", cell);
    if (col !== 2) return cell;
    const status = statusOf(results[row - 1]);
    if (status === "completed") return paint(color, "green", cell);
    if (status === "parse_failed") return paint(color, "yellow", cell);
    return paint(color, "red", cell);
  }).join("\n");
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

/** "12 conversations in 9.4 s: 7 completed (5 direct, 2 jsonrepair), 4 in review, 1 generation_failed". */
export function formatOutcomeLine(o: DemoOutcome): string {
  const byStatus = countBy(o.results, statusOf);
  const parts: string[] = [];
  const completed = o.results.filter((r) => r.row?.processing_status === "completed");
  if (completed.length > 0) {
    const methods = [...countBy(completed, (r) => r.row?.parse_method_used ?? "unknown")]
      .sort((a, b) => b[1] - a[1]).map(([m, n]) => `${n} ${m}`).join(", ");
    parts.push(`${completed.length} completed (${methods})`);
  }
  const review = byStatus.get("parse_failed") ?? 0;
  if (review > 0) parts.push(`${review} in review`);
  for (const [status, n] of [...byStatus].sort((a, b) => b[1] - a[1])) {
    if (status !== "completed" && status !== "parse_failed") parts.push(`${n} ${status}`);
  }
  const cost = o.results.reduce((s, r) => s + (r.row?.cost_usd ?? 0), 0);
  const costNote = o.realClaude && cost > 0 ? `; estimated cost $${cost.toFixed(4)}` : "";
  return `${o.results.length} conversation${o.results.length === 1 ? "" : "s"} in ${
    (o.elapsedMs / 1000).toFixed(1)
  } s: ${parts.join(", ")}${costNote}`;
}

export interface NextStepsContext {
  apiUrl: string;
  /** The local stack's fixed service_role key (the one `supabase start` prints too). */
  serviceKey: string;
  dbUrl: string;
  stateDir: string;
  userId: string;
}

/** Where to go from here: the review queue for the parse failures, the rows still moving after a timeout. */
export function formatNextSteps(o: DemoOutcome, c: NextStepsContext): string[] {
  const lines: string[] = [];
  const review = o.results.filter((r) => r.row?.processing_status === "parse_failed").length;
  if (review > 0) {
    lines.push(
      `${review} conversation${review === 1 ? " is" : "s are"} in the review queue (nothing is lost: ` +
        `the raw response is stored). See ${review === 1 ? "it" : "them"} with:`,
      `  curl -s "${c.apiUrl}/functions/v1/review-queue?user_id=${c.userId}" \\`,
      `    -H "Authorization: Bearer ${c.serviceKey}"`,
      `  deno task reparse --dry-run    # what a re-parse with the current parser would do (docs/REVIEW.md)`,
    );
  }
  const moving = o.results.filter((r) => !isSettled(r));
  if (moving.length > 0) {
    const ids = moving.flatMap((r) => {
      const id = r.row?.conversation_id ?? r.answer?.conversationId;
      return id ? [`'${id}'`] : [];
    });
    lines.push(
      `${moving.length} conversation${
        moving.length === 1 ? " was" : "s were"
      } still in progress when the wait ` +
        `ended (--timeout); the pipeline finishes ${moving.length === 1 ? "it" : "them"} on its own.` +
        (ids.length > 0 ? " Check later with:" : ""),
    );
    if (ids.length > 0) {
      lines.push(
        `  psql "${c.dbUrl}" -c "select conversation_id, processing_status from conversations ` +
          `where conversation_id in (${ids.join(", ")})"`,
      );
    }
  }
  const failed = o.results.filter(hasNoConversation).length;
  if (failed > 0) {
    lines.push(
      `${failed} request${
        failed === 1 ? "" : "s"
      } got no conversation (see DETAIL); the function's side is in ` +
        `${c.stateDir}/gateway.log`,
    );
  }
  return lines;
}

export interface StackUrls {
  SUPABASE_URL: string;
  SUPABASE_DB_URL: string;
  SUPABASE_JWT_SECRET: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  SUPABASE_PUBLISHABLE_KEY: string;
  SUPABASE_SECRET_KEY: string;
  ANTHROPIC_BASE_URL: string;
}

/** The block `supabase start` prints, with this stack's extras (stand-in, state folder, log). */
export function formatStackUrls(
  env: StackUrls,
  extra: { stateDir: string; realClaude: boolean },
): string {
  return [
    `         API URL: ${env.SUPABASE_URL}`,
    `   Functions URL: ${env.SUPABASE_URL}/functions/v1`,
    `     Storage URL: ${env.SUPABASE_URL}/storage/v1`,
    `          DB URL: ${env.SUPABASE_DB_URL}`,
    `      JWT secret: ${env.SUPABASE_JWT_SECRET}`,
    `        anon key: ${env.SUPABASE_ANON_KEY}`,
    `service_role key: ${env.SUPABASE_SERVICE_ROLE_KEY}`,
    ` Publishable key: ${env.SUPABASE_PUBLISHABLE_KEY}`,
    `      Secret key: ${env.SUPABASE_SECRET_KEY}`,
    `Claude stand-in URL: ${env.ANTHROPIC_BASE_URL}${
      extra.realClaude ? " (not used: functions call the real API, ANTHROPIC_API_KEY is set)" : ""
    }`,
    `     State folder: ${extra.stateDir}  (gateway.log, stack.env.json)`,
  ].join("\n");
}
