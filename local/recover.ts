/**
 * What `deno task recover` (cli/recover.ts) does, apart from its command line: read the log-ahead's lines
 * (shared/generate/log_ahead.ts) from a file or the Management API, reassemble them (shared/recover/assemble.ts),
 * and store each body whose answer the database does not have — a row still `generating`, or closed as
 * `generation_failed` with `worker_lost` — write-once at its raw path with the service key, as the sweeper's
 * flush does. First the logged metadata goes on the row (private.record_recovered_answer, 20251211000000:
 * sha256, stop_reason, model, tokens, cost, truncated — what the write-ahead would have recorded), so the parse
 * verifies the bytes against the logged sha256 and the row carries the billed usage; the parse alone would record
 * only the sha256 and stop_reason. Then the upload: the storage trigger (20251119000000) marks the row
 * `raw_stored` and wakes the parse, and 20251203000100 clears `worker_lost`.
 *
 * Idempotent: a row that is no longer `generating`/`worker_lost`, or whose raw object exists, is skipped, and
 * the upload is write-once.
 */
import { z } from "zod";
import { assembleBodies, type Assembly, type LoggedPart, loggedPartOf } from "../shared/recover/assemble.ts";
import { rawObjectPath } from "../shared/pipeline/object_paths.ts";
import type { UploadResult } from "../shared/pipeline/object_store.ts";

/** A conversation row as recovery needs it. */
export const rowSchema = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  processing_status: z.string(),
  generation_error_code: z.string().nullable(),
  raw_response_path: z.string().nullable(),
});
export type RecoverRow = z.infer<typeof rowSchema>;

/** Where recovery reads rows and writes objects (the service key's REST and Storage; fakes in tests). */
export interface RecoverTarget {
  rows(conversationIds: string[]): Promise<RecoverRow[]>;
  /** private.record_recovered_answer: false when the row no longer needs it (or records another sha256). */
  recordAnswer(answer: Extract<Assembly, { kind: "complete" }>): Promise<boolean>;
  upload(path: string, bytes: Uint8Array): Promise<UploadResult>;
}

/** One line of the report. */
export interface RecoverItem {
  conversation_id: string;
  raw_sha256: string;
  action: "restored" | "would_restore" | "skipped" | "failed";
  reason: string;
  path?: string;
  size?: number;
}

/** The logged parts in a text of JSON lines (a gateway log, a saved `--log` file); other lines are ignored. */
export function partsFromText(text: string): LoggedPart[] {
  return text.split("\n").map((l) => l.trim()).filter((l) => l !== "").map(loggedPartOf).filter((
    p,
  ): p is LoggedPart => p !== null);
}

const logsAnswer = z.object({
  result: z.array(z.unknown()).nullable().optional(),
  error: z.unknown().optional(),
});

/** The Management API's log query: the function's log lines of the log-ahead, oldest first. */
export const LOGS_SQL = "select id, timestamp, event_message from function_logs " +
  "where event_message like '%raw_response_logged%' order by timestamp asc limit 1000";

/**
 * Reads the log-ahead's lines of a hosted project through the Management API
 * (`GET /v1/projects/{ref}/analytics/endpoints/logs.all`, bearer token), one query per hour from `since` to
 * `until` (the endpoint takes at most 24 hours per query and rounds to the minute). Throws with the API's
 * message on a refused call; warns through `warn` when an hour returned the query's limit (some may be cut).
 */
export async function partsFromManagementApi(
  opts: { apiUrl: string; projectRef: string; token: string; since: Date; until: Date },
  io: { fetch: typeof fetch; warn: (s: string) => void },
): Promise<LoggedPart[]> {
  const parts: LoggedPart[] = [];
  const hour = 3_600_000;
  const minute = 60_000;
  // Whole minutes: the endpoint rounds to the minute, so unaligned edges could leave a gap between two queries.
  const since = Math.floor(opts.since.getTime() / minute) * minute;
  const until = Math.ceil(opts.until.getTime() / minute) * minute;
  for (let t = since; t < until; t += hour) {
    const url = new URL(`${opts.apiUrl}/v1/projects/${opts.projectRef}/analytics/endpoints/logs.all`);
    url.searchParams.set("sql", LOGS_SQL);
    url.searchParams.set("iso_timestamp_start", new Date(t).toISOString());
    url.searchParams.set(
      "iso_timestamp_end",
      new Date(Math.min(t + hour, until)).toISOString(),
    );
    const res = await io.fetch(url, { headers: { authorization: `Bearer ${opts.token}` } });
    const text = await res.text();
    if (!res.ok) throw new Error(`the Management API answered ${res.status}: ${text.slice(0, 300)}`);
    const body = logsAnswer.safeParse(JSON.parse(text));
    if (!body.success) throw new Error("the Management API's answer has no `result`");
    if (body.data.error) {
      throw new Error(`the log query failed: ${JSON.stringify(body.data.error).slice(0, 300)}`);
    }
    const rows = body.data.result ?? [];
    if (rows.length >= 1000) {
      io.warn(`recover: ${new Date(t).toISOString()}: 1000 lines in one hour, some may be cut`);
    }
    for (const row of rows) {
      const p = loggedPartOf(row);
      if (p) parts.push(p);
    }
  }
  return parts;
}

function recoverable(row: RecoverRow): string | null {
  if (row.processing_status === "generating") return null;
  if (row.processing_status === "generation_failed" && row.generation_error_code === "worker_lost") {
    return null;
  }
  const code = row.generation_error_code ? ` (${row.generation_error_code})` : "";
  return `row is ${row.processing_status}${code}`;
}

/**
 * Stores each complete body whose row still needs it (see the header), or with `dryRun` says it would. Every
 * assembly gets one report line, ordered by conversation id.
 */
export async function recoverBodies(
  assemblies: readonly Assembly[],
  target: RecoverTarget,
  opts: { dryRun: boolean },
): Promise<RecoverItem[]> {
  const complete = assemblies.filter((a) => a.kind === "complete");
  const ids = [...new Set(complete.map((a) => a.conversationId))];
  const rows = new Map((ids.length ? await target.rows(ids) : []).map((r) => [r.conversation_id, r]));
  const completeCount = new Map<string, number>();
  for (const a of complete) {
    completeCount.set(a.conversationId, (completeCount.get(a.conversationId) ?? 0) + 1);
  }
  const out: RecoverItem[] = [];
  for (const a of assemblies) {
    const base = { conversation_id: a.conversationId, raw_sha256: a.rawSha256 };
    if (a.kind === "incomplete") {
      out.push({
        ...base,
        action: "skipped",
        reason: `incomplete: parts ${a.missing.join(",")} of ${a.parts} missing`,
      });
      continue;
    }
    if (a.kind === "mismatched") {
      out.push({ ...base, action: "skipped", reason: `mismatched: ${a.reason}` });
      continue;
    }
    if ((completeCount.get(a.conversationId) ?? 0) > 1) {
      out.push({ ...base, action: "skipped", reason: "ambiguous: two different bodies logged" });
      continue;
    }
    const row = rows.get(a.conversationId);
    if (!row) {
      out.push({ ...base, action: "skipped", reason: "no conversation row" });
      continue;
    }
    const notNeeded = recoverable(row);
    if (notNeeded) {
      out.push({ ...base, action: "skipped", reason: notNeeded });
      continue;
    }
    if (row.raw_response_path) {
      out.push({ ...base, action: "skipped", reason: "raw object already recorded" });
      continue;
    }
    const path = rawObjectPath(row.user_id, row.conversation_id);
    const item = { ...base, path, size: a.raw.byteLength };
    if (opts.dryRun) {
      out.push({ ...item, action: "would_restore", reason: `row is ${row.processing_status}` });
      continue;
    }
    if (!(await target.recordAnswer(a))) {
      out.push({ ...item, action: "skipped", reason: "row moved on or records another sha256" });
      continue;
    }
    const up = await target.upload(path, a.raw);
    if (up.ok) out.push({ ...item, action: "restored", reason: `row was ${row.processing_status}` });
    else if (up.kind === "exists") out.push({ ...item, action: "skipped", reason: "raw object exists" });
    else out.push({ ...item, action: "failed", reason: `upload ${up.kind}: ${up.message}` });
  }
  return out.sort((x, y) => x.conversation_id.localeCompare(y.conversation_id));
}

/** Reassembles the parts and recovers the bodies (the two steps above, for the command). */
export async function recover(
  parts: readonly LoggedPart[],
  target: RecoverTarget,
  opts: { dryRun: boolean },
): Promise<RecoverItem[]> {
  return recoverBodies(await assembleBodies(parts), target, opts);
}

/** The report as a plain table, one line per body. */
export function formatReport(items: readonly RecoverItem[]): string {
  if (items.length === 0) return "no logged answers found";
  const rows = items.map((
    i,
  ) => [i.action, i.conversation_id, i.raw_sha256.slice(0, 12), String(i.size ?? ""), i.reason]);
  const head = ["action", "conversation_id", "sha256", "bytes", "why"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((v, c) => v.padEnd(widths[c])).join("  ").trimEnd();
  const counts = new Map<string, number>();
  for (const i of items) counts.set(i.action, (counts.get(i.action) ?? 0) + 1);
  const total = [...counts].map(([k, v]) => `${k} ${v}`).join(", ");
  return [fmt(head), ...rows.map(fmt), "", total].join("\n");
}
