/**
 * One raw retention run: delete, through the Storage API, the raw objects of conversations completed by the
 * parser whose raw is older than RAW_RETENTION_DAYS, in bounded batches; mark each row (raw_deleted_at).
 * Off unless RAW_RETENTION_DAYS is set. Which rows are eligible is decided in SQL
 * (20251120000300_create_raw_retention_functions.sql): never a conversation in review, failed or in flight.
 *
 * called by: shared/retention/handle_raw_retention.ts (cron job `raw-retention`, daily)
 * next: shared/adapters/postgres_retention_store.ts (mark / unmark), shared/adapters/supabase_object_store.ts (remove)
 *
 * Order per batch: mark in SQL → remove through Storage → on a Storage error, unmark. A run that dies between
 * mark and remove leaves marked rows whose objects still exist; the next run finishes them first.
 */
import { type Clock, systemClock } from "../pipeline/clock.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { logger } from "../log.ts";
import type { RetentionStore } from "./retention_store.ts";

export interface RetentionConfig {
  /** null: retention is off (RAW_RETENTION_DAYS unset). */
  retentionDays: number | null;
  /** Rows marked and objects removed per batch (one Storage call). */
  batchSize: number;
  /** Batches per run; what is left waits for the next day's run. */
  maxBatches: number;
}

export interface RetentionDeps {
  store: RetentionStore;
  objects: ObjectStore;
  config: RetentionConfig;
  clock?: Clock;
}

export interface RetentionItem {
  conversation_id: string;
  path: string;
  size: number | null;
  raw_stored_at: string;
}

export interface RetentionReport {
  enabled: boolean;
  dry_run: boolean;
  retention_days: number | null;
  /** Raw stored before this time is eligible. */
  cutoff: string | null;
  reason: string | null;
  /** Dry run: every eligible row and its bytes; the list below is bounded by `limit`. */
  eligible: number | null;
  eligible_bytes: number | null;
  would_delete: RetentionItem[];
  deleted: number;
  deleted_bytes: number;
  /** Marked rows whose object was already gone (removed by hand, or by an earlier unfinished run). */
  already_missing: number;
  /** Objects of rows an earlier run marked but did not remove, removed now. */
  finished_from_earlier_runs: number;
  batches: number;
  failed_batches: number;
  /** True when the run stopped at its batch budget with eligible rows left (the next run continues). */
  more_remaining: boolean;
  errors: string[];
}

const DAY_MS = 86_400_000;
/** A mark younger than this may belong to a run that is removing right now: leave it to that run. */
const UNFINISHED_GRACE_MS = 10 * 60_000;
/** How far back unfinished marks are looked for (the job runs daily; a week covers missed days). */
const UNFINISHED_LOOKBACK_MS = 7 * DAY_MS;

function emptyReport(dryRun: boolean, days: number | null): RetentionReport {
  return {
    enabled: days !== null,
    dry_run: dryRun,
    retention_days: days,
    cutoff: null,
    reason: null,
    eligible: null,
    eligible_bytes: null,
    would_delete: [],
    deleted: 0,
    deleted_bytes: 0,
    already_missing: 0,
    finished_from_earlier_runs: 0,
    batches: 0,
    failed_batches: 0,
    more_remaining: false,
    errors: [],
  };
}

/**
 * One run. With retention off it touches nothing and says why (`reason`). A dry run only reads (totals and at
 * most min(limit, batch budget, 1000) candidates). Otherwise it first removes objects an earlier run marked
 * but left (marks 10 minutes to 7 days old), then at most `maxBatches` batches, never more than `limit`
 * objects: mark → remove → on a Storage error unmark that batch and stop. A Storage failure is reported in
 * `errors`/`failed_batches`, not thrown; a database failure throws.
 */
export async function runRawRetention(
  deps: RetentionDeps,
  opts: { dryRun: boolean; limit?: number },
): Promise<RetentionReport> {
  const { retentionDays, batchSize, maxBatches } = deps.config;
  const report = emptyReport(opts.dryRun, retentionDays);
  if (retentionDays === null) {
    report.reason = "RAW_RETENTION_DAYS is not set: raw retention is off, nothing is deleted";
    return report;
  }
  const now = (deps.clock ?? systemClock).now();
  const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
  report.cutoff = cutoff.toISOString();
  const budget = Math.min(opts.limit ?? batchSize * maxBatches, batchSize * maxBatches);

  if (opts.dryRun) {
    const totals = await deps.store.totals(cutoff);
    report.eligible = totals.eligible;
    report.eligible_bytes = totals.bytes;
    const rows = await deps.store.candidates(cutoff, Math.min(budget, 1_000));
    report.would_delete = rows.map((r) => ({
      conversation_id: r.conversationId,
      path: r.path,
      size: r.size,
      raw_stored_at: r.rawStoredAt.toISOString(),
    }));
    report.more_remaining = totals.eligible > rows.length;
    return report;
  }

  // First, objects an earlier run marked but never removed.
  const unfinished = await deps.store.unfinished(
    new Date(now.getTime() - UNFINISHED_LOOKBACK_MS),
    new Date(now.getTime() - UNFINISHED_GRACE_MS),
    batchSize,
  );
  if (unfinished.length > 0) {
    const res = await deps.objects.remove(unfinished.map((u) => u.path));
    if (res.ok) report.finished_from_earlier_runs = res.removed.length;
    else report.errors.push(`Cannot finish earlier deletions: ${res.message}`);
  }

  let remaining = budget;
  while (report.batches < maxBatches && remaining > 0) {
    const size = Math.min(batchSize, remaining);
    const batch = await deps.store.markBatch(cutoff, size, now);
    if (batch.length === 0) break;
    report.batches++;
    remaining -= batch.length;
    const res = await deps.objects.remove(batch.map((b) => b.path));
    if (!res.ok) {
      const restored = await deps.store.unmark(batch.map((b) => b.conversationId), now);
      report.failed_batches++;
      report.errors.push(`Cannot delete ${batch.length} raw objects: ${res.message}`);
      logger.warn("raw_retention_batch_failed", {
        rows: batch.length,
        unmarked: restored,
        error: res.message,
      });
      break; // Storage is refusing: stop, the marks are back, tomorrow's run tries again
    }
    // Storage's remove answers the objects it deleted; missing ones are silently absent (already gone).
    const removed = new Set(res.removed);
    const removedRows = res.removed.length === 0 ? [] : batch.filter((b) => removed.has(b.path));
    const removedCount = removedRows.length > 0 ? removedRows.length : res.removed.length;
    report.deleted += removedCount;
    report.already_missing += batch.length - removedCount;
    report.deleted_bytes += removedRows.reduce((sum, b) => sum + (b.size ?? 0), 0);
    logger.info("raw_retention_batch", { rows: batch.length, removed: removedCount });
    if (batch.length < size) break; // nothing more is eligible
  }
  if (remaining <= 0 || report.batches >= maxBatches) {
    report.more_remaining = (await deps.store.totals(cutoff)).eligible > 0;
  }
  return report;
}
