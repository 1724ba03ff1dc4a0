/**
 * The export's read loop, shared by `deno task export` (shared/export/run.ts, files on disk) and the
 * `export-dataset` function (shared/export/handle_export_dataset.ts, a stream): keyset pages of rows, the next
 * page read ahead while this page's final files are fetched, each final file turned into one line or a skip.
 *
 * Memory: at most two pages of rows and one page of final files at a time, whatever the selection's size.
 * Order: the rows' (created_at, conversation_id) order, whatever order the downloads finish in.
 */
import { createHash } from "node:crypto";
import { mapLimit } from "../parse_flow/_map_limit.ts";
import type { ExportFilter } from "./filter.ts";
import { type ExportFormat, finalFileSchema, formatLine } from "./format.ts";
import type { Cursor, ExportRow } from "./row.ts";

export type DownloadAnswer =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; kind: "not_found" }
  | { ok: false; kind: "unavailable"; message: string };

/** The database and Storage, as the export needs them. */
export interface ExportSource {
  /** Up to `limit` rows after `after` in (created_at, conversation_id) order. Throws when the database fails. */
  rows(filter: ExportFilter, after: Cursor | null, limit: number): Promise<ExportRow[]>;
  count(filter: ExportFilter): Promise<number>;
  download(bucket: string, path: string): Promise<DownloadAnswer>;
  /**
   * Optional, faster: one page's objects of one bucket at once (answers in the order of `paths`), e.g. signed
   * in one request and fetched with `concurrency` in flight. Without it the loop calls `download` per object.
   */
  downloadMany?(bucket: string, paths: string[], concurrency: number): Promise<DownloadAnswer[]>;
}

/** What became of one row: its line (and the final file's sha256), or why it was skipped. */
export type RowOutcome =
  | { kind: "line"; row: ExportRow; line: string; finalSha256: string }
  | { kind: "skipped"; row: ExportRow; reason: "no_final_file" | "final_file_missing" | string };

/** One page: the outcomes in row order; `unavailable` stops the page at that row (Storage failed there). */
export interface PageOutcome {
  outcomes: RowOutcome[];
  unavailable: { row: ExportRow; message: string } | null;
}

export interface PageLoopOptions {
  filter: ExportFilter;
  format: ExportFormat;
  after: Cursor | null;
  pageSize: number;
  concurrency: number;
  /** Tries per download when Storage is unavailable, and the wait before try n (ms × 2^(n-2)). */
  tries: number;
  retryDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/** A database failure while reading rows (the caller names it in its own error). */
export class RowsUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RowsUnavailable";
  }
}

async function readPage(src: ExportSource, o: PageLoopOptions, after: Cursor | null): Promise<ExportRow[]> {
  try {
    return await src.rows(o.filter, after, o.pageSize);
  } catch (err) {
    throw new RowsUnavailable(err instanceof Error ? err.message : String(err));
  }
}

const DEFAULT_BUCKET = "conversation-files";

/** One page's final files, in row order: in bulk per bucket when the source can, then retries one by one. */
export async function downloadPage(
  src: ExportSource,
  rows: readonly Pick<ExportRow, "file_path" | "storage_bucket">[],
  o: Pick<PageLoopOptions, "concurrency" | "tries" | "retryDelayMs" | "sleep">,
): Promise<DownloadAnswer[]> {
  const answers = new Array<DownloadAnswer>(rows.length);
  const byBucket = new Map<string, number[]>();
  rows.forEach((r, i) => {
    if (r.file_path === null) {
      answers[i] = { ok: false, kind: "not_found" };
      return;
    }
    const b = r.storage_bucket ?? DEFAULT_BUCKET;
    const list = byBucket.get(b) ?? [];
    list.push(i);
    byBucket.set(b, list);
  });
  for (const [bucket, idx] of byBucket) {
    const got = src.downloadMany
      ? await src.downloadMany(bucket, idx.map((i) => rows[i].file_path!), o.concurrency)
      : await mapLimit(idx, o.concurrency, (i) => src.download(bucket, rows[i].file_path!));
    idx.forEach((i, k) => (answers[i] = got[k]));
  }
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  // Whatever Storage could not serve is tried again one by one, with backoff (try 1 was the bulk pass).
  for (let attempt = 2; attempt <= o.tries; attempt++) {
    const again = rows.map((_, i) => i).filter((i) => {
      const a = answers[i];
      return !a.ok && a.kind === "unavailable";
    });
    if (again.length === 0) break;
    await sleep(o.retryDelayMs * 2 ** (attempt - 2));
    const got = await mapLimit(
      again,
      o.concurrency,
      (i) => src.download(rows[i].storage_bucket ?? DEFAULT_BUCKET, rows[i].file_path!),
    );
    again.forEach((i, k) => (answers[i] = got[k]));
  }
  return answers;
}

const decoder = new TextDecoder();

/** One row and its final file (or the lack of one) → a line in `format`, or the reason it is skipped. */
export function outcomeOf(
  format: ExportFormat,
  row: ExportRow,
  got: DownloadAnswer & ({ ok: true } | { kind: "not_found" }),
): RowOutcome {
  if (!got.ok) {
    return { kind: "skipped", row, reason: row.file_path === null ? "no_final_file" : "final_file_missing" };
  }
  const finalSha256 = createHash("sha256").update(got.bytes).digest("hex");
  let doc;
  try {
    doc = finalFileSchema.parse(JSON.parse(decoder.decode(got.bytes)));
  } catch {
    return { kind: "skipped", row, reason: "invalid_final_file" };
  }
  const line = formatLine(format, row, doc, finalSha256);
  if (!line.ok) return { kind: "skipped", row, reason: line.problem };
  return { kind: "line", row, line: line.line, finalSha256 };
}

/**
 * The pages of an export after `o.after`, one `PageOutcome` each, in order. The next page's rows are read
 * while this page's files download. Throws `RowsUnavailable` when the database fails; a page whose
 * `unavailable` is set is the last one (the consumer stops there; everything before that row is complete).
 */
export async function* exportPages(src: ExportSource, o: PageLoopOptions): AsyncGenerator<PageOutcome> {
  let ahead: Promise<ExportRow[]> | null = readPage(src, o, o.after);
  while (ahead !== null) {
    const rows: ExportRow[] = await ahead;
    ahead = null;
    if (rows.length === 0) return;
    if (rows.length === o.pageSize) {
      const last = rows[rows.length - 1];
      ahead = readPage(src, o, { created_at: last.created_at, conversation_id: last.conversation_id });
      // Awaited on the next turn; a failure while this page downloads must not go unhandled meanwhile.
      ahead.catch(() => {});
    }
    const answers = await downloadPage(src, rows, o);
    const outcomes: RowOutcome[] = [];
    let unavailable: PageOutcome["unavailable"] = null;
    for (const [i, row] of rows.entries()) {
      const got = answers[i];
      if (!got.ok && got.kind === "unavailable") {
        unavailable = { row, message: got.message };
        break;
      }
      outcomes.push(outcomeOf(o.format, row, got));
    }
    yield { outcomes, unavailable };
    if (unavailable !== null) return;
  }
}
