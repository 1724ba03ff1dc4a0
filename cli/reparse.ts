/**
 * `deno task reparse [--since ISO] [--dry-run] [--force] [--user UUID] [--limit N] [--batch-size N] [--json]`
 *
 * Re-parses every conversation waiting in the manual review queue with the parser the deployed functions run now
 * — after a parser upgrade, old failures are recovered from the stored raw responses at no API cost. It calls the
 * review-queue function's `POST /retry-all` with the service key, again and again with its cursor until nothing
 * is left (one call does a bounded amount of work: Edge Functions have a wall-clock and CPU budget), and shows
 * progress: a bar on a terminal, one plain line per call otherwise (CI logs, pipes).
 *
 *   --since ISO      only conversations created at or after this time
 *   --dry-run        change nothing: count what would be re-parsed (by parser version and last outcome), then
 *                    read each candidate's raw object and parse it in memory with THIS checkout's parser (which
 *                    may be newer than the deployed one) and show, per item and in totals, the current state
 *                    against the predicted one: `parse_failed(invalid_json) → completed(jsonrepair)`, `unchanged`,
 *                    `unreadable(not_found)`. Without --force, rows this checkout's parser version already failed
 *                    are left out, as a real run would. Four objects at a time.
 *   --force          also re-parse rows the current parser version already failed
 *   --user UUID      only this user's conversations
 *   --limit N        rows per call (default 100, at most 500); --batch-size N rows per batch inside a call
 *   --json           print the final summary as JSON (for scripts)
 *
 * Target: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY when set (a real project), else the local stack's
 * `<stateDir>/stack.env.json`. Exit status: 0 done; 1 a call failed (after 3 tries); 2 bad arguments or no target.
 */
import { parseCli } from "../local/parse_cli.ts";
import { z } from "zod";
import { tryReadStackEnv } from "../local/stack_env.ts";
import type { DownloadResult } from "../shared/pipeline/object_store.ts";
import { sha256Hex } from "../shared/pipeline/sha256.ts";
import { supabaseObjectStore } from "../shared/adapters/supabase_object_store.ts";
import { numberFromEnv } from "../shared/env.ts";
import {
  createParser,
  DEFAULT_MAX_RAW_BYTES,
  PARSER_VERSION,
  type ParseResult,
} from "../shared/parse/mod.ts";
import {
  emptyTally,
  formatPreview,
  predictItem,
  type PreviewRow,
  type PreviewTally,
  type RawRead,
  tallyPreview,
} from "../shared/review/preview.ts";
import { addCounts, emptyCounts, type PreviewItem } from "../shared/review/retry_all.ts";

const countsSchema = z.object({
  total: z.number(),
  by_status: z.record(z.string(), z.number()),
  by_method: z.record(z.string(), z.number()),
  by_outcome: z.record(z.string(), z.number()),
  by_parser_version: z.record(z.string(), z.number()),
});
type Counts = z.infer<typeof countsSchema>;

const previewItemSchema = z.object({
  conversation_id: z.string(),
  raw_response_path: z.string(),
  raw_sha256: z.string().nullable(),
  parser_version: z.string().nullable(),
  processing_status: z.string(),
  outcome: z.string().nullable(),
  method: z.string().nullable(),
  error_code: z.string().nullable(),
});

const responseSchema = z.object({
  parser_version: z.string(),
  dry_run: z.boolean(),
  candidates: countsSchema,
  processed: z.number(),
  before: countsSchema,
  after: countsSchema,
  results: z.record(z.string(), z.number()),
  remaining: z.number(),
  next_cursor: z.string().nullable(),
  stopped: z.string(),
  preview: z.array(previewItemSchema).optional(),
});
export type RetryAllAnswer = z.infer<typeof responseSchema>;

export interface ReparseOptions {
  readonly url: string;
  readonly serviceKey: string;
  readonly since: string | null;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly userId: string | null;
  readonly limit: number | null;
  readonly batchSize: number | null;
}

export interface ReparseIo {
  readonly fetch: typeof fetch;
  /** Writes without a newline (the bar redraws its line with \r). */
  readonly write: (text: string) => void;
  readonly isTerminal: boolean;
  readonly sleep: (ms: number) => Promise<void>;
  /** With --dry-run: read and parse the candidates' raw objects in memory (omitted: counts only). */
  readonly preview?: PreviewDeps;
}

export interface PreviewDeps {
  readonly download: (path: string) => Promise<DownloadResult>;
  /** Never throws (shared/parse): this checkout's parser. */
  readonly parse: (bytes: Uint8Array) => ParseResult;
  readonly parserVersion: string;
  /** Raw objects read and parsed at a time (memory: at most this many objects held). */
  readonly concurrency: number;
}

/** The dry run's in-memory re-parse of every candidate. */
export interface PreviewReport {
  /** The parser that made the prediction (this checkout's); the summary's `parser_version` is the deployed one. */
  parser_version: string;
  items: PreviewRow[];
  totals: PreviewTally;
  /** Left out: this checkout's parser version already failed on them (not with --force). */
  skipped_same_version: number;
}

export interface ReparseSummary {
  parser_version: string;
  dry_run: boolean;
  candidates: Counts;
  calls: number;
  processed: number;
  before: Counts;
  after: Counts;
  results: Record<string, number>;
  /**
   * In review but left out because the current parser version already failed on them (re-parsing gives the
   * same result; --force includes them). Counted on a dry run, or when nothing is left to do; null otherwise.
   */
  skipped_same_version: number | null;
  /** --dry-run with preview deps: what this checkout's parser would change; null otherwise. */
  preview: PreviewReport | null;
}

/** `completed 3, parse_failed 1` — zero counts left out, keys sorted, so lines compare across runs. */
export function describeCounts(m: Record<string, number>): string {
  const parts = Object.entries(m).filter(([, n]) => n > 0).sort(([a], [b]) => a.localeCompare(b));
  return parts.length === 0 ? "none" : parts.map(([k, n]) => `${k} ${n}`).join(", ");
}

/** `[####......] 3/10`: the live line on a terminal (never written when stdout is a pipe). */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

/** One POST /retry-all; retries network errors and 5xx (a worker limit, a cold start) three times. */
async function callRetryAll(
  opts: ReparseOptions,
  io: ReparseIo,
  body: Record<string, unknown>,
): Promise<RetryAllAnswer> {
  const endpoint = `${opts.url.replace(/\/$/, "")}/functions/v1/review-queue/retry-all`;
  let lastError = "";
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const res = await io.fetch(endpoint, {
        method: "POST",
        headers: { authorization: `Bearer ${opts.serviceKey}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      if (res.ok) return responseSchema.parse(JSON.parse(text));
      lastError = `HTTP ${res.status}: ${text.slice(0, 300)}`;
      if (res.status < 500) break;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (attempt < 3) await io.sleep(1000 * 2 ** (attempt - 1));
  }
  throw new Error(`Cannot call retry-all: ${lastError}`);
}

/**
 * Calls review-queue's POST /retry-all until it has nothing left (or the limit), summing its before/after
 * counts; a dry run asks once and, with preview deps, predicts per item in this process.
 */
export async function runReparse(opts: ReparseOptions, io: ReparseIo): Promise<ReparseSummary> {
  const base: Record<string, unknown> = { force: opts.force };
  if (opts.since !== null) base.since = opts.since;
  if (opts.userId !== null) base.user_id = opts.userId;
  if (opts.limit !== null) base.limit = opts.limit;
  if (opts.batchSize !== null) base.batch_size = opts.batchSize;

  // A dry run first: the total for the progress bar, and the whole answer when that is all that was asked.
  const count = await callRetryAll(opts, io, { ...base, dry_run: true });
  const summary: ReparseSummary = {
    parser_version: count.parser_version,
    dry_run: opts.dryRun,
    candidates: count.candidates,
    calls: 0,
    processed: 0,
    before: emptyCounts(),
    after: emptyCounts(),
    results: {},
    skipped_same_version: null,
    preview: null,
  };
  const total = count.candidates.total;
  if (opts.dryRun || total === 0) {
    if (!opts.force) {
      // What --force would add: the rows this parser version already failed.
      const forced = await callRetryAll(opts, io, { ...base, force: true, dry_run: true });
      summary.skipped_same_version = Math.max(0, forced.candidates.total - total);
    }
    if (opts.dryRun && io.preview !== undefined) {
      summary.preview = await runPreview(opts, io, io.preview, base);
    }
    return summary;
  }

  let cursor: string | null = null;
  do {
    const answer: RetryAllAnswer = await callRetryAll(opts, io, cursor === null ? base : { ...base, cursor });
    summary.calls++;
    summary.processed += answer.processed;
    summary.before = addCounts(summary.before, answer.before);
    summary.after = addCounts(summary.after, answer.after);
    for (const [k, n] of Object.entries(answer.results)) summary.results[k] = (summary.results[k] ?? 0) + n;
    const shown = Math.max(total, summary.processed);
    if (io.isTerminal) {
      io.write(`\r${progressBar(summary.processed, shown)}  ${describeCounts(summary.results)}\x1b[K`);
    } else {
      io.write(
        `reparse: call ${summary.calls}: ${summary.processed}/${shown} re-parsed (${
          describeCounts(answer.results)
        }), ${answer.remaining} left\n`,
      );
    }
    // A call that moved nothing would loop forever on the same cursor.
    if (answer.processed === 0) break;
    cursor = answer.next_cursor;
  } while (cursor !== null);
  if (io.isTerminal) io.write("\n");
  return summary;
}

/** Reads one raw object (checked against the row's sha256) and parses it in memory. */
async function predictOne(item: PreviewItem, deps: PreviewDeps): Promise<PreviewRow> {
  const got = await deps.download(item.raw_response_path);
  let read: RawRead;
  if (!got.ok) {
    read = got.kind === "not_found"
      ? { ok: false, reason: "not_found", message: `no object at ${item.raw_response_path}` }
      : { ok: false, reason: "unavailable", message: got.message.slice(0, 200) };
  } else if (item.raw_sha256 !== null && (await sha256Hex(got.bytes)) !== item.raw_sha256.toLowerCase()) {
    read = { ok: false, reason: "sha256_mismatch", message: "the object's sha256 differs from the row's" };
  } else {
    read = { ok: true, bytes: got.bytes };
  }
  return predictItem(item, read, deps.parse);
}

/** `fn` over `items` with at most `limit` running at once; results in the order of `items`. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/**
 * Pages through retry-all's dry-run preview (with force, so rows the deployed version failed are listed too: the
 * local parser may be newer) and skips here, unless --force, the rows this checkout's version already failed.
 */
async function runPreview(
  opts: ReparseOptions,
  io: ReparseIo,
  deps: PreviewDeps,
  base: Record<string, unknown>,
): Promise<PreviewReport> {
  const report: PreviewReport = {
    parser_version: deps.parserVersion,
    items: [],
    totals: emptyTally(),
    skipped_same_version: 0,
  };
  let cursor: string | null = null;
  let page = 0;
  do {
    const body: Record<string, unknown> = { ...base, force: true, dry_run: true, preview: true };
    if (cursor !== null) body.cursor = cursor;
    const answer: RetryAllAnswer = await callRetryAll(opts, io, body);
    if (answer.preview === undefined) {
      throw new Error(
        "the deployed review-queue function has no dry-run preview: deploy it, or see docs/REVIEW.md",
      );
    }
    page++;
    const todo = answer.preview.filter((i) => opts.force || i.parser_version !== deps.parserVersion);
    report.skipped_same_version += answer.preview.length - todo.length;
    const rows = await mapPool(todo, deps.concurrency, (item) => predictOne(item, deps));
    report.items.push(...rows);
    report.totals = tallyPreview(rows, report.totals);
    io.write(
      `reparse: preview page ${page}: ${report.totals.total} parsed in memory (${
        describeCounts(report.totals.by_change)
      }), ${answer.remaining} left\n`,
    );
    if (answer.preview.length === 0) break;
    cursor = answer.next_cursor;
  } while (cursor !== null);
  return report;
}

/** What the run left out and why (the review queue may hold rows that are not candidates). */
export function skippedLine(s: ReparseSummary): string {
  if (s.skipped_same_version === null) {
    return "  skipped: none by version (--force: rows this parser version already failed are included)";
  }
  if (s.skipped_same_version === 0) {
    return "  skipped: none (no row in review was already failed by this parser version)";
  }
  return `  skipped ${s.skipped_same_version}: parser version ${s.parser_version} already failed on them, so it ` +
    `would fail the same way; --force re-parses them anyway (e.g. after changing a template or the schema)`;
}

/** The final summary for a person: before/after counts by status and method, results, skips, preview. */
export function formatSummary(s: ReparseSummary): string {
  const lines = [`parser version ${s.parser_version}`];
  if (s.dry_run) {
    lines.push(`would re-parse ${s.candidates.total} conversation(s)`);
    lines.push(`  by parser version: ${describeCounts(s.candidates.by_parser_version)}`);
    lines.push(`  by last outcome:   ${describeCounts(s.candidates.by_outcome)}`);
    lines.push(skippedLine(s));
    if (s.preview !== null) {
      if (s.preview.parser_version !== s.parser_version) {
        lines.push(
          `deployed functions run parser ${s.parser_version}; this preview runs ${s.preview.parser_version}`,
        );
      }
      lines.push(formatPreview(s.preview.items, s.preview.totals, s.preview.parser_version));
      if (s.preview.skipped_same_version > 0) {
        lines.push(
          `  left out ${s.preview.skipped_same_version}: parser ${s.preview.parser_version} already failed on them ` +
            `(--force includes them)`,
        );
      }
    }
    return lines.join("\n");
  }
  if (s.processed === 0 && s.skipped_same_version !== null) lines.push(skippedLine(s));
  lines.push(`re-parsed ${s.processed} conversation(s) in ${s.calls} call(s)`);
  lines.push(`  before: ${describeCounts(s.before.by_status)}; method ${describeCounts(s.before.by_method)}`);
  lines.push(`  after:  ${describeCounts(s.after.by_status)}; method ${describeCounts(s.after.by_method)}`);
  lines.push(`  results: ${describeCounts(s.results)}`);
  return lines.join("\n");
}

/** Raw objects read and parsed at once by the preview: overlaps downloads, bounds memory. */
const PREVIEW_CONCURRENCY = 4;

function target(): { url: string; key: string } | null {
  const url = Deno.env.get("SUPABASE_URL");
  const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
  if (url && key) return { url, key };
  const local = tryReadStackEnv();
  return local && { url: local.SUPABASE_URL, key: local.SUPABASE_SERVICE_ROLE_KEY };
}

const argsSchema = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  "dry-run": z.boolean().optional(),
  force: z.boolean().optional(),
  user: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  "batch-size": z.coerce.number().int().min(1).max(100).optional(),
  json: z.boolean().optional(),
});

if (import.meta.main) {
  let values: z.infer<typeof argsSchema>;
  try {
    const parsed = parseCli("reparse", import.meta.url, {
      since: { type: "string" },
      "dry-run": { type: "boolean" },
      force: { type: "boolean" },
      user: { type: "string" },
      limit: { type: "string" },
      "batch-size": { type: "string" },
      json: { type: "boolean" },
    });
    values = argsSchema.parse(parsed.values);
  } catch (err) {
    const why = err instanceof z.ZodError
      ? err.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ")
      : err instanceof Error
      ? err.message
      : String(err);
    console.error(`reparse: ${why}`);
    Deno.exit(2);
  }
  const t = target();
  if (!t) {
    console.error(
      "reparse: no target: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, or start the local stack (deno task stack:start)",
    );
    Deno.exit(2);
  }
  const encoder = new TextEncoder();
  const store = supabaseObjectStore(t.url, t.key);
  try {
    const summary = await runReparse({
      url: t.url,
      serviceKey: t.key,
      since: values.since ?? null,
      dryRun: values["dry-run"] ?? false,
      force: values.force ?? false,
      userId: values.user ?? null,
      limit: values.limit ?? null,
      batchSize: values["batch-size"] ?? null,
    }, {
      fetch,
      // With --json, stdout carries only the summary; progress goes to stderr.
      write: (text) => (values.json ? Deno.stderr : Deno.stdout).writeSync(encoder.encode(text)),
      isTerminal: values.json ? Deno.stderr.isTerminal() : Deno.stdout.isTerminal(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      preview: {
        download: (path) => store.download(path),
        parse: createParser({
          maxRawBytes: numberFromEnv(Deno.env, "PARSE_MAX_RAW_BYTES", DEFAULT_MAX_RAW_BYTES),
        }),
        parserVersion: PARSER_VERSION,
        concurrency: PREVIEW_CONCURRENCY,
      },
    });
    console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  } catch (err) {
    console.error(`reparse: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
