/**
 * `POST /review-queue/retry-all` (service role): re-parse every `parse_failed` conversation that is waiting for
 * review with the current parser — a parser upgrade recovers old failures from the stored raw bytes, at no API
 * cost. Rows already failed by the current parser version are skipped (same parser, same bytes, same answer)
 * unless `force` is set. Dismissed rows are never touched.
 *
 * Work goes in batches (`batch_size` rows read with one keyset query, oldest first), within a per-call `limit`
 * and a wall-clock budget: an Edge Function has 150 s of wall clock and 2 s of CPU per request, so one call
 * never tries to drain a queue of thousands. The answer carries `next_cursor` and `remaining`; callers
 * (cli/reparse.ts) call again until `next_cursor` is null. Each row goes through the same requeue → claim →
 * parse → finish path as a single retry, so the claim rules of the parse flow hold throughout.
 *
 * `dry_run` with `preview`: no re-parse either, but the answer lists up to `limit` candidates from the cursor on
 * (`preview`: id, raw object path and checksum, the last attempt's outcome) with a `next_cursor`, so a client
 * (cli/reparse.ts --dry-run) can run a newer parser over the raw objects in memory and show what it would change.
 *
 * called by: shared/review/handler.ts; next: shared/review/reparse.ts.
 */
import type { Clock } from "../pipeline/clock.ts";
import { z } from "zod";
import { appError } from "../errors.ts";
import { describeZodError } from "../http/respond.ts";
import { type CursorPosition, decodeCursor, encodeCursor, fingerprint } from "./cursor.ts";
import type { ReparseResult } from "./reparse.ts";
import type { PreviewCandidate, RetryAllFilter, ReviewRepo, StatusCounts } from "./repo.ts";

export const DEFAULT_RETRY_ALL_LIMIT = 100;
export const MAX_RETRY_ALL_LIMIT = 500;
export const DEFAULT_BATCH_SIZE = 20;
export const MAX_BATCH_SIZE = 100;

export interface RetryAllRequest {
  readonly force: boolean;
  readonly dryRun: boolean;
  readonly since: Date | null;
  readonly userId: string | null;
  readonly limit: number;
  readonly batchSize: number;
  readonly cursor: string | null;
  /** With dryRun: list the candidates of this page (see the header). */
  readonly preview: boolean;
}

const requestSchema = z.strictObject({
  force: z.boolean().default(false),
  dry_run: z.boolean().default(false),
  since: z.iso.datetime({ offset: true }).optional(),
  user_id: z.uuid().optional(),
  limit: z.int().min(1).max(MAX_RETRY_ALL_LIMIT).default(DEFAULT_RETRY_ALL_LIMIT),
  batch_size: z.int().min(1).max(MAX_BATCH_SIZE).default(DEFAULT_BATCH_SIZE),
  cursor: z.string().min(1).max(512).optional(),
  preview: z.boolean().default(false),
}).refine((b) => !b.preview || b.dry_run, { message: "preview needs dry_run", path: ["preview"] });

/** An empty body means "everything, with the defaults". */
export function parseRetryAllRequest(body: unknown): RetryAllRequest {
  const parsed = requestSchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw appError("invalid_body", `Cannot start retry-all: ${describeZodError(parsed.error)}`);
  }
  const b = parsed.data;
  return {
    force: b.force,
    dryRun: b.dry_run,
    since: b.since ? new Date(b.since) : null,
    userId: b.user_id?.toLowerCase() ?? null,
    limit: b.limit,
    batchSize: b.batch_size,
    cursor: b.cursor ?? null,
    preview: b.preview,
  };
}

export type ItemOutcome = {
  conversation_id: string;
  result: ReparseResult["result"];
  method?: string;
  outcome?: string;
  error_code?: string;
  reason?: string;
};

/** One candidate of a preview page, as JSON. */
export interface PreviewItem {
  conversation_id: string;
  raw_response_path: string;
  raw_sha256: string | null;
  parser_version: string | null;
  processing_status: string;
  outcome: string | null;
  method: string | null;
  error_code: string | null;
}

function previewItem(c: PreviewCandidate): PreviewItem {
  return {
    conversation_id: c.conversationId,
    raw_response_path: c.rawResponsePath,
    raw_sha256: c.rawSha256,
    parser_version: c.parserVersion,
    processing_status: c.processingStatus,
    outcome: c.outcome,
    method: c.method,
    error_code: c.errorCode,
  };
}

export interface RetryAllResponse {
  parser_version: string;
  dry_run: boolean;
  force: boolean;
  since: string | null;
  user_id: string | null;
  /** Rows this call could work on when it started (from the cursor on), grouped. */
  candidates: StatusCounts;
  processed: number;
  /** The processed rows before and after their re-parse. */
  before: StatusCounts;
  after: StatusCounts;
  results: Record<ReparseResult["result"], number>;
  items: ItemOutcome[];
  /** Dry run with `preview` only: this page's candidates, oldest first. */
  preview?: PreviewItem[];
  /** Candidates left after this call; `next_cursor` continues from where it stopped. */
  remaining: number;
  next_cursor: string | null;
  stopped: "done" | "limit" | "time_budget" | "dry_run";
}

export interface RetryAllDeps {
  readonly repo: ReviewRepo;
  readonly parserVersion: string;
  /** One row through requeue → claim → parse → finish (shared/review/reparse.ts). */
  readonly reparse: (conversationId: string) => Promise<ReparseResult>;
  /** Its monotonic reading measures the budget. */
  readonly clock: Clock;
  /** Stop starting new batches after this many milliseconds. */
  readonly budgetMs: number;
}

/** Zeroed status counts, a new object per call. */
export function emptyCounts(): StatusCounts {
  return { total: 0, by_status: {}, by_method: {}, by_outcome: {}, by_parser_version: {} };
}

/** The sum of two count sets, key by key (keys present in either); a new object, the inputs are not changed. */
export function addCounts(a: StatusCounts, b: StatusCounts): StatusCounts {
  const merge = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    total: a.total + b.total,
    by_status: merge(a.by_status, b.by_status),
    by_method: merge(a.by_method, b.by_method),
    by_outcome: merge(a.by_outcome, b.by_outcome),
    by_parser_version: merge(a.by_parser_version, b.by_parser_version),
  };
}

function describeItem(r: ReparseResult): ItemOutcome {
  const base: ItemOutcome = { conversation_id: r.conversation_id, result: r.result };
  switch (r.result) {
    case "completed":
      return { ...base, method: r.method };
    case "parse_failed":
      return { ...base, outcome: r.outcome, error_code: r.error_code };
    case "released":
    case "error":
      return { ...base, error_code: r.error_code };
    case "skipped":
      return { ...base, reason: r.reason };
    case "refused":
      return { ...base, reason: r.reason };
  }
}

/**
 * One retry-all call. A dry run changes nothing (counts, and with `preview` one page of candidates). Otherwise
 * it re-parses candidates one at a time, oldest first, in batches, and stops at `limit`, when none are left,
 * or after a batch once `budgetMs` is spent — never before the first batch, so every call moves the cursor.
 * `next_cursor` is tied to the filters and the parser version: after a deploy it is refused (`bad_request`).
 */
export async function runRetryAll(deps: RetryAllDeps, req: RetryAllRequest): Promise<RetryAllResponse> {
  const started = deps.clock.monotonic();
  const filter: RetryAllFilter = {
    force: req.force,
    currentVersion: deps.parserVersion,
    since: req.since,
    userId: req.userId,
  };
  // The cursor is tied to the filters and the parser version: after a deploy mid-run, start again.
  const tag = fingerprint([req.force, req.since?.toISOString() ?? null, req.userId, deps.parserVersion]);
  let after: CursorPosition | null = req.cursor ? decodeCursor(req.cursor, tag) : null;

  const candidates = await deps.repo.countCandidates(filter, after);
  const response: RetryAllResponse = {
    parser_version: deps.parserVersion,
    dry_run: req.dryRun,
    force: req.force,
    since: req.since?.toISOString() ?? null,
    user_id: req.userId,
    candidates,
    processed: 0,
    before: emptyCounts(),
    after: emptyCounts(),
    results: { completed: 0, parse_failed: 0, released: 0, skipped: 0, error: 0, refused: 0 },
    items: [],
    remaining: candidates.total,
    next_cursor: null,
    stopped: "done",
  };
  if (req.dryRun) {
    response.stopped = "dry_run";
    if (req.preview) {
      const page = await deps.repo.previewCandidates(filter, after, req.limit);
      response.preview = page.map(previewItem);
      const last = page.at(-1);
      if (last !== undefined) {
        const left = await deps.repo.countCandidates(filter, last.position);
        response.remaining = left.total;
        response.next_cursor = left.total > 0 ? encodeCursor(last.position, tag) : null;
      }
    }
    return response;
  }

  while (true) {
    const room = req.limit - response.processed;
    if (room <= 0) {
      response.stopped = "limit";
      break;
    }
    const batch = await deps.repo.candidates(filter, after, Math.min(req.batchSize, room));
    if (batch.length === 0) break;
    const ids = batch.map((c) => c.conversationId);
    response.before = addCounts(response.before, await deps.repo.countRows(ids));
    // One at a time: parsing is CPU on the worker's single thread, and the database sees no burst.
    for (const candidate of batch) {
      const result = await deps.reparse(candidate.conversationId);
      response.results[result.result]++;
      response.items.push(describeItem(result));
      response.processed++;
      after = candidate.position;
    }
    response.after = addCounts(response.after, await deps.repo.countRows(ids));
    if (batch.length < Math.min(req.batchSize, room)) break;
    // Checked after a batch, never before the first: every call makes progress, so the cursor always moves.
    if (deps.clock.monotonic() - started >= deps.budgetMs) {
      response.stopped = "time_budget";
      break;
    }
  }

  const left = await deps.repo.countCandidates(filter, after);
  response.remaining = left.total;
  response.next_cursor = left.total > 0 && after !== null ? encodeCursor(after, tag) : null;
  if (left.total === 0) response.stopped = "done";
  return response;
}
