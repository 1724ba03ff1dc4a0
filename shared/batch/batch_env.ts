/**
 * The batch flows' settings, read once at boot (a bad value fails the worker's boot). Defaults and reasons:
 * docs/BATCHES.md, "Limits".
 */
import { type EnvSource, numberFromEnv } from "../env.ts";
import { BATCH_MAX_REQUESTS_CEILING } from "./batch_request.ts";

export const BATCH_DEFAULTS = {
  /** Requests per POST /generate-batch: far under the API's 100,000, so one submit fits an Edge Function. */
  maxRequests: 10_000,
  /** Expired requests go into a new batch this many times (the "re-queue once"); 0 fails them. */
  requeueExpired: 1,
  /** A batch still `submitting` after this long lost its worker: failed with its conversations. */
  staleSubmitMs: 15 * 60_000,
  /** Results file parts: under the batch-results bucket's 16 MiB cap, cut at line ends. */
  partBytes: 8 * 1024 * 1024,
  /** Concurrent raw uploads while splitting a results file. */
  uploadConcurrency: 16,
  /** Batches looked at per collector run. */
  batchesPerRun: 20,
  /** Stop starting new batches, and new chunks of raw uploads, after this long (the wall clock is 150 s). */
  runBudgetMs: 100_000,
} as const;

export interface BatchSettings {
  maxRequests: number;
  requeueExpired: number;
  staleSubmitMs: number;
  partBytes: number;
  uploadConcurrency: number;
  batchesPerRun: number;
  runBudgetMs: number;
}

function int(env: EnvSource, name: string, fallback: number, min: number, max: number): number {
  const n = numberFromEnv(env, name, fallback);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`Cannot start: ${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * BATCH_MAX_REQUESTS, BATCH_REQUEUE_EXPIRED, BATCH_STALE_SUBMIT_MS, BATCH_RESULTS_PART_BYTES,
 * BATCH_UPLOAD_CONCURRENCY, BATCH_COLLECT_PER_RUN, BATCH_COLLECT_BUDGET_MS; throws `Cannot start: …` on a
 * value out of range.
 */
export function batchSettingsFromEnv(env: EnvSource): BatchSettings {
  return {
    maxRequests: int(env, "BATCH_MAX_REQUESTS", BATCH_DEFAULTS.maxRequests, 1, BATCH_MAX_REQUESTS_CEILING),
    requeueExpired: int(env, "BATCH_REQUEUE_EXPIRED", BATCH_DEFAULTS.requeueExpired, 0, 5),
    staleSubmitMs: int(env, "BATCH_STALE_SUBMIT_MS", BATCH_DEFAULTS.staleSubmitMs, 60_000, 86_400_000),
    partBytes: int(env, "BATCH_RESULTS_PART_BYTES", BATCH_DEFAULTS.partBytes, 1024, 16 * 1024 * 1024),
    uploadConcurrency: int(env, "BATCH_UPLOAD_CONCURRENCY", BATCH_DEFAULTS.uploadConcurrency, 1, 128),
    batchesPerRun: int(env, "BATCH_COLLECT_PER_RUN", BATCH_DEFAULTS.batchesPerRun, 1, 1000),
    runBudgetMs: int(env, "BATCH_COLLECT_BUDGET_MS", BATCH_DEFAULTS.runBudgetMs, 1000, 3_600_000),
  };
}
