/**
 * The collector (cron function collect-batches): polls open batches, and for one that has ended stores the
 * results file itself, raw, in Storage FIRST (write-once parts, sha256 recorded on the batch row), then splits
 * it: each `succeeded` result's Message becomes that conversation's raw object at raw/{user_id}/{id}.json —
 * where generate-conversation stores it, so the storage trigger and the parse flow take over unchanged —
 * and `errored`, `canceled`, `expired` results set `generation_failed` with the error recorded (an expired
 * request is re-queued into a new batch BATCH_REQUEUE_EXPIRED times first).
 *
 *   in_progress/canceling --retrieve--> ended --download, store parts, record sha--> results_stored
 *   --split: record usage + sha on the row, upload raw (write-once); fail the others; missing → failed-->
 *   collected (the unused output-token budget given back, once)
 *
 * Every step is idempotent, so a crash anywhere resumes on the next run: parts and raw objects are write-once
 * (an existing object with the same sha256 is success), row updates are guarded by `batch_queued` and the
 * batch id, and a stored results file is read back from Storage (its sha256 verified) rather than downloaded
 * again. A request with no line in the file is reported (`missing_count`, `batch_result_missing`), never
 * dropped in silence.
 *
 * called by: shared/batch/handle_collect_batches.ts; next: the storage trigger on_raw_object_stored →
 * parse-conversation
 */
import { conversationJsonSchema } from "../parse/schema.ts";
import { estimateBatchCostUsd } from "../generate/cost.ts";
import { plainJsonInstructions } from "../generate/prompt.ts";
import { logger } from "../log.ts";
import type { Clock } from "../pipeline/clock.ts";
import { rawObjectPath } from "../pipeline/object_paths.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { sha256Hasher, sha256Hex, sha256HexSync } from "../pipeline/sha256.ts";
import type { BatchApi, BatchRequestItem, RemoteBatch } from "./batch_api.ts";
import type { BatchSettings } from "./batch_env.ts";
import { messageParams } from "./batch_request.ts";
import type {
  BatchConversation,
  BatchRecord,
  BatchStore,
  ResultsPart,
  SucceededRecord,
} from "./batch_store.ts";
import { readResults, type ResultLine, streamParts } from "./results_file.ts";

export interface CollectDeps {
  store: BatchStore;
  api: BatchApi;
  /** The batch-results bucket (results files). */
  results: ObjectStore;
  /** The conversation-files bucket (raw objects). */
  raw: ObjectStore;
  clock: Clock;
  settings: BatchSettings;
}

export type BatchOutcome =
  | { batch_id: string; outcome: "waiting"; state: string }
  | { batch_id: string; outcome: "collected"; tally: Record<string, number> }
  | { batch_id: string; outcome: "retry"; error: string };

export interface CollectSummary {
  /** Stale submits whose batch was found at Anthropic (one unambiguous match) and is now watched. */
  lost_submits_found: number;
  stale_submits_failed: number;
  batches: BatchOutcome[];
}

/**
 * A results file part lives under the batch, named by its place and its own sha256 (the whole file's is known
 * only once the last part has arrived): a second download of the same bytes finds its parts already stored
 * (write-once, same sha256: success, no duplicate), different bytes never collide with them.
 */
export function resultsPartPath(userId: string, batchId: string, index: number, partSha256: string): string {
  return `${userId}/${batchId}/parts/${String(index + 1).padStart(4, "0")}-${partSha256}.jsonl`;
}

class Retry extends Error {}

/** A results file shorter than the batch's counts is downloaded again this many times, then split as it is. */
const SHORT_FILE_RETRIES = 3;

/**
 * A fixed number of workers taking items as the producer adds them: no barrier between the producer's batches
 * (the next rows are recorded while the previous ones upload). `push` waits while `highWater` items are queued,
 * so what is held stays bounded. `fn` must not throw.
 */
function workQueue<T>(concurrency: number, highWater: number, fn: (item: T) => Promise<void>) {
  const queue: T[] = [];
  let closed = false;
  let idle: (() => void)[] = [];
  let producer: (() => void) | null = null;
  const wakeIdle = () => {
    const w = idle;
    idle = [];
    for (const f of w) f();
  };
  const worker = async () => {
    for (;;) {
      const item = queue.shift();
      if (item !== undefined) {
        if (producer && queue.length < highWater) {
          const p = producer;
          producer = null;
          p();
        }
        await fn(item);
        continue;
      }
      if (closed) return;
      await new Promise<void>((resolve) => idle.push(resolve));
    }
  };
  const workers = Array.from({ length: Math.max(1, concurrency) }, worker);
  return {
    async push(items: T[]): Promise<void> {
      queue.push(...items);
      wakeIdle();
      while (queue.length >= highWater) await new Promise<void>((resolve) => producer = resolve);
    },
    async close(): Promise<void> {
      closed = true;
      wakeIdle();
      await Promise.all(workers);
    },
  };
}

/** Write-once upload: success when stored now, or when the same bytes (sha256) are already there. */
async function putOnce(store: ObjectStore, path: string, bytes: Uint8Array, sha: string, type: string) {
  const up = await store.upload(path, bytes, { upsert: false, contentType: type });
  if (up.ok) return;
  if (up.kind === "exists") {
    const existing = await store.download(path);
    if (existing.ok && await sha256Hex(existing.bytes) === sha) return;
    if (existing.ok) throw new Retry(`a different object already exists at ${path}`);
    throw new Retry(`cannot read the existing object at ${path}`);
  }
  throw new Retry(
    `Storage did not take ${path}: ${up.kind === "rejected" ? up.status + " " : ""}${up.message}`,
  );
}

function stateOf(remote: RemoteBatch): "in_progress" | "canceling" | "ended" {
  return remote.status;
}

/**
 * Downloads the results file and stores it part by part as it arrives (each part write-once with its sha256,
 * the whole file's sha256 computed on the way), then records it on the batch row; the first writer wins and
 * its record is returned. Holds one part at a time, never the file.
 */
async function storeResults(deps: CollectDeps, b: BatchRecord, remote: RemoteBatch): Promise<BatchRecord> {
  const dl = await deps.api.openResults(remote);
  if (!dl.ok) throw new Retry(`results download failed: ${dl.failure.message}`);
  const whole = sha256Hasher();
  const parts: ResultsPart[] = [];
  let size = 0;
  try {
    for await (const part of streamParts(dl.value, deps.settings.partBytes)) {
      whole.update(part.bytes);
      size += part.bytes.length;
      const partSha = await sha256Hex(part.bytes);
      const path = resultsPartPath(b.userId, b.id, parts.length, partSha);
      await putOnce(deps.results, path, part.bytes, partSha, "application/x-ndjson");
      parts.push({ path, sha256: partSha, size: part.bytes.length, lines: part.lines });
    }
  } catch (err) {
    if (err instanceof Retry) throw err;
    throw new Retry(
      `results download failed after ${parts.length} part(s): ${(err as Error)?.message ?? err}`,
    );
  }
  const lines = parts.reduce((n, p) => n + p.lines, 0);
  const expected = remote.counts.succeeded + remote.counts.errored + remote.counts.canceled +
    remote.counts.expired;
  if (lines < expected && b.collectAttempts < SHORT_FILE_RETRIES) {
    // Its parts stay stored (write-once, named by their sha256): the next download reuses those it repeats.
    throw new Retry(`the results file has ${lines} lines, the batch reports ${expected}: downloading again`);
  }
  const sha = whole.hex();
  const rec = await deps.store.recordResults(b.id, { sha256: sha, size, lines, parts });
  logger.info("batch_results_stored", { batch_id: b.id, sha256: sha, size, lines, parts: parts.length });
  return rec ?? (await deps.store.record(b.id)) ?? b;
}

/**
 * The stored results file, part by part (each part's sha256 verified as it is read, the whole file's checked
 * after the last part): `onPart` gets each part's lines before the next part is read.
 */
async function eachStoredPart(
  deps: CollectDeps,
  b: BatchRecord,
  onPart: (lines: ResultLine[]) => Promise<void>,
): Promise<void> {
  const whole = sha256Hasher();
  let firstLine = 1;
  for (const p of b.resultsParts ?? []) {
    const got = await deps.results.download(p.path);
    if (!got.ok) throw new Retry(`cannot read the stored results part ${p.path}: ${got.kind}`);
    if (await sha256Hex(got.bytes) !== p.sha256) {
      throw new Retry(`stored results part ${p.path}: sha256 differs`);
    }
    whole.update(got.bytes);
    const lines = readResults(got.bytes, firstLine);
    firstLine += p.lines;
    await onPart(lines);
  }
  if (whole.hex() !== b.resultsSha256) throw new Retry("the stored results file's sha256 differs");
}

function usageNumber(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

async function requeue(deps: CollectDeps, b: BatchRecord, convs: BatchConversation[]): Promise<number> {
  const newId = crypto.randomUUID();
  const items: BatchRequestItem[] = [];
  const snapshots = await deps.store.snapshots(convs.map((c) => c.conversationId));
  for (const c of convs) {
    const s = snapshots.get(c.conversationId) ?? {};
    const batchInfo = (s.batch ?? {}) as { structured_outputs?: unknown };
    items.push({
      custom_id: c.conversationId,
      params: messageParams({
        model: String(s.model ?? b.model),
        maxTokens: Number(s.max_tokens ?? 4096),
        system: String(s.system_prompt ?? ""),
        prompt: String(s.prompt ?? ""),
        plainJsonInstructions: plainJsonInstructions(conversationJsonSchema),
        outputSchema: batchInfo.structured_outputs === false ? null : conversationJsonSchema,
        userId: c.userId,
      }),
    });
  }
  const hash = await sha256Hex(new TextEncoder().encode(convs.map((c) => c.conversationId).sort().join(",")));
  const requeued = await deps.store.insertRequeue({
    batchId: newId,
    userId: b.userId,
    model: b.model,
    requestCount: items.length,
    idempotencyKey: null,
    requestHash: hash,
    // Carried over from the original batch by insertRequeue, not reserved again (docs/BATCHES.md, "Re-queue").
    tokensReserved: 0,
    tokensWindowStart: null,
    requeueOf: b.id,
    requeueDepth: b.requeueDepth + 1,
  }, convs.map((c) => c.conversationId));
  const moved = requeued.moved;
  if (moved === 0) return 0;
  const created = await deps.api.create(items);
  if (!created.ok) {
    // Nothing will run: the reservation carried over is given back (Claude charges nothing for these).
    if (requeued.tokensCarried > 0 && requeued.tokensWindowStart !== null) {
      await deps.store.releaseTokens(b.userId, requeued.tokensWindowStart, requeued.tokensCarried).catch((
        err,
      ) => logger.warn("batch_budget_release_failed", { batch_id: newId, error: err as Error }));
    }
    await deps.store.markSubmitFailed(
      newId,
      `batch_expired: re-queue refused by Anthropic (${
        created.failure.status ?? "no answer"
      }): ${created.failure.message}`
        .slice(0, 1000),
    );
    return 0;
  }
  await deps.store.markSubmitted(newId, {
    id: created.value.id,
    expiresAt: created.value.expiresAt,
    createdAt: created.value.createdAt,
  });
  logger.info("batch_requeued", { batch_id: b.id, new_batch_id: newId, requests: items.length });
  return moved;
}

/** Rows recorded per statement before their raw uploads are queued. */
const CHUNK = 500;

interface RawUpload {
  conversationId: string;
  userId: string;
  body: Uint8Array;
  sha256: string;
}

/**
 * Splits the stored results file, part by part, into raw objects and failures; throws Retry when some raw upload
 * failed or the run's budget is spent. Raw uploads run `uploadConcurrency` at a time from a queue the row
 * recording feeds (no barrier between chunks); what is held is one part's results plus the queue.
 */
async function split(
  deps: CollectDeps,
  b: BatchRecord,
  deadline: number,
): Promise<Record<string, number>> {
  const convs = new Map((await deps.store.conversations(b.id)).map((c) => [c.conversationId, c]));
  const tally: Record<string, number> = {
    succeeded: 0,
    errored: 0,
    canceled: 0,
    expired: 0,
    requeued: 0,
    unreadable: 0,
    unknown: 0,
    duplicate: 0,
    already_done: 0,
    missing: 0,
  };
  const seen = new Set<string>();
  const toRequeue: BatchConversation[] = [];
  let uploadFailures = 0;
  let lastUploadError = "";
  const uploads = workQueue<RawUpload>(deps.settings.uploadConcurrency, 2 * CHUNK, async (u) => {
    try {
      await putOnce(
        deps.raw,
        rawObjectPath(u.userId, u.conversationId),
        u.body,
        u.sha256,
        "application/json",
      );
    } catch (err) {
      uploadFailures++;
      lastUploadError = err instanceof Error ? err.message : String(err);
    }
  });
  let done = 0;
  const onPart = async (lines: ResultLine[]) => {
    const succeeded: SucceededRecord[] = [];
    const payloads = new Map<string, RawUpload>();
    const failures: { conversationId: string; error: string }[] = [];
    for (const line of lines) {
      if (line.kind === "unreadable") {
        tally.unreadable++;
        logger.error("batch_result_unreadable", { batch_id: b.id, line: line.line, reason: line.reason });
        continue;
      }
      const conv = convs.get(line.customId);
      if (!conv) {
        tally.unknown++;
        logger.error("batch_result_unknown", { batch_id: b.id, custom_id: line.customId.slice(0, 64) });
        continue;
      }
      if (seen.has(line.customId)) {
        tally.duplicate++;
        continue;
      }
      seen.add(line.customId);
      tally[line.kind]++;
      if (conv.status !== "batch_queued" || conv.batchId !== b.id) {
        tally.already_done++;
        continue;
      }
      switch (line.kind) {
        case "succeeded": {
          const m = line.message;
          const body = new TextEncoder().encode(JSON.stringify(m));
          const usage = (m.usage ?? {}) as Record<string, unknown>;
          const model = typeof m.model === "string" ? m.model : null;
          const stopReason = typeof m.stop_reason === "string" ? m.stop_reason : null;
          const rawSha256 = sha256HexSync(body); // small bodies: no await per result
          payloads.set(conv.conversationId, {
            conversationId: conv.conversationId,
            userId: conv.userId,
            body,
            sha256: rawSha256,
          });
          succeeded.push({
            conversationId: conv.conversationId,
            record: {
              rawSha256,
              stopReason,
              model,
              inputTokens: usageNumber(usage.input_tokens),
              outputTokens: usageNumber(usage.output_tokens),
              costUsd: estimateBatchCostUsd(model ?? b.model, {
                input_tokens: usageNumber(usage.input_tokens),
                output_tokens: usageNumber(usage.output_tokens),
                cache_creation_input_tokens: usageNumber(usage.cache_creation_input_tokens),
                cache_read_input_tokens: usageNumber(usage.cache_read_input_tokens),
              }),
              truncated: stopReason === "max_tokens" || stopReason === "model_context_window_exceeded",
              attempts: b.requeueDepth + 1,
            },
          });
          break;
        }
        case "errored":
          failures.push({
            conversationId: conv.conversationId,
            error: `batch_errored: ${line.errorType}: ${line.message}`.slice(0, 1000),
          });
          break;
        case "canceled":
          failures.push({
            conversationId: conv.conversationId,
            error: "batch_canceled: the batch was canceled before this request was processed",
          });
          break;
        case "expired":
          if (b.requeueDepth < deps.settings.requeueExpired) {
            toRequeue.push(conv);
          } else {
            failures.push({
              conversationId: conv.conversationId,
              error: `batch_expired: not processed within 24 hours (re-queued ${b.requeueDepth} time(s))`,
            });
          }
          break;
      }
    }

    for (let i = 0; i < succeeded.length; i += CHUNK) {
      if (deps.clock.monotonic() > deadline) {
        // Stop before the platform's wall clock does: everything so far is durable, the next run resumes.
        throw new Retry(`the run's time budget is spent after ${done} results; the next run resumes`);
      }
      const ids = await deps.store.recordSucceeded(b.id, succeeded.slice(i, i + CHUNK));
      await uploads.push(ids.map((id) => payloads.get(id)!));
      done += Math.min(CHUNK, succeeded.length - i);
    }
    for (let i = 0; i < failures.length; i += 1000) {
      await deps.store.markFailed(b.id, failures.slice(i, i + 1000));
    }
  };
  try {
    await eachStoredPart(deps, b, onPart);
  } finally {
    // The rows already recorded get their uploads, whatever stopped the split.
    await uploads.close();
  }
  if (toRequeue.length > 0) tally.requeued = await requeue(deps, b, toRequeue);
  if (uploadFailures > 0) {
    throw new Retry(
      `${uploadFailures} raw upload(s) failed (last: ${lastUploadError}); the next run resumes`,
    );
  }
  const missing = [...convs.values()].filter((c) =>
    c.batchId === b.id && c.status === "batch_queued" && !seen.has(c.conversationId)
  );
  if (missing.length > 0) {
    tally.missing = await deps.store.markFailed(
      b.id,
      missing.map((c) => ({
        conversationId: c.conversationId,
        error:
          `batch_result_missing: no line for this request in the results file (sha256 ${b.resultsSha256})`,
      })),
    );
    logger.error("batch_results_missing", { batch_id: b.id, missing: missing.length });
  }
  await deps.store.markCollected(b.id, { counts: tally, missing: tally.missing, unknown: tally.unknown });
  return tally;
}

/**
 * One batch, as far as it can go in this run: no new chunk of raw uploads starts after `deadline` (a
 * `clock.monotonic()` value; by default the run budget from now), so the run ends before the platform's wall
 * clock ends it.
 */
export async function collectBatch(
  deps: CollectDeps,
  batch: BatchRecord,
  deadline = deps.clock.monotonic() + deps.settings.runBudgetMs,
): Promise<BatchOutcome> {
  let b = batch;
  if (b.state === "submitting" || b.anthropicBatchId === null) {
    return { batch_id: b.id, outcome: "waiting", state: b.state };
  }
  try {
    let remote: RemoteBatch | null = null;
    if (b.state === "in_progress" || b.state === "canceling" || b.state === "ended") {
      const got = await deps.api.retrieve(b.anthropicBatchId);
      if (!got.ok && got.failure.status === 404) {
        const error = `batch_not_found: Anthropic no longer knows batch ${b.anthropicBatchId}`;
        const failed = await deps.store.markLost(b.id, error);
        logger.error("batch_lost", {
          batch_id: b.id,
          anthropic_batch_id: b.anthropicBatchId,
          conversations: failed,
        });
        return { batch_id: b.id, outcome: "waiting", state: "failed" };
      }
      if (!got.ok) throw new Retry(`retrieve failed: ${got.failure.message}`);
      remote = got.value;
      await deps.store.recordPoll(b.id, stateOf(remote), remote.counts, remote.endedAt);
      if (remote.status !== "ended") return { batch_id: b.id, outcome: "waiting", state: remote.status };
      b = await storeResults(deps, b, remote);
    }
    if (b.state !== "results_stored") return { batch_id: b.id, outcome: "waiting", state: b.state };
    // Split from the stored parts (never from the download): the stored file is the record.
    const tally = await split(deps, b, deadline);
    logger.info("batch_collected", { batch_id: b.id, ...tally });
    return { batch_id: b.id, outcome: "collected", tally };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    if (!(err instanceof Retry)) {
      logger.error("batch_collect_failed", { batch_id: b.id, error: err as Error });
    } else logger.warn("batch_collect_retry", { batch_id: b.id, error });
    await deps.store.recordCollectError(b.id, error.slice(0, 1000)).catch(() => {});
    return { batch_id: b.id, outcome: "retry", error };
  }
}

/** A batch created at Anthropic this long before its row's insert still matches it (clock skew). */
const FIND_SKEW_MS = 5 * 60_000;
/** ... and this long after (the create call's own retries and timeouts). */
const FIND_WINDOW_MS = 30 * 60_000;

function totalRequests(r: RemoteBatch): number {
  const c = r.counts;
  return c.processing + c.succeeded + c.errored + c.canceled + c.expired;
}

/**
 * A worker killed between `batches.create` and recording the id leaves the row `submitting` and the batch
 * running at Anthropic, unwatched. Before such rows are failed as stale, look for their batch: created within
 * [row − 5 min, row + 30 min], with the row's request count, recorded on no row. Only a match that is the one
 * candidate for exactly one stale row is taken (the id recorded, the batch collected as usual; its results'
 * custom_ids are the conversation ids, so a wrong match would show as unknown and missing results, never as a
 * wrong raw object). Anything ambiguous, or a failed list call, leaves the row to be failed as before.
 */
async function findLostSubmits(deps: CollectDeps): Promise<number> {
  const stale = await deps.store.staleSubmits(deps.settings.staleSubmitMs);
  if (stale.length === 0) return 0;
  const since = new Date(Math.min(...stale.map((s) => s.createdAt.getTime())) - FIND_SKEW_MS);
  const listed = await deps.api.listSince(since);
  if (!listed.ok) {
    logger.warn("batch_lost_submits_not_searched", { error: listed.failure.message });
    return 0;
  }
  const known = await deps.store.knownAnthropicIds(listed.value.map((r) => r.id));
  const free = listed.value.filter((r) => !known.has(r.id));
  const candidates = new Map(stale.map((s) => [
    s.batchId,
    free.filter((r) =>
      totalRequests(r) === s.requestCount &&
      r.createdAt.getTime() >= s.createdAt.getTime() - FIND_SKEW_MS &&
      r.createdAt.getTime() <= s.createdAt.getTime() + FIND_WINDOW_MS
    ),
  ]));
  const claims = new Map<string, number>();
  for (const list of candidates.values()) for (const r of list) claims.set(r.id, (claims.get(r.id) ?? 0) + 1);
  let found = 0;
  for (const [batchId, list] of candidates) {
    if (list.length !== 1 || claims.get(list[0].id) !== 1) continue;
    const r = list[0];
    if (
      await deps.store.markSubmitted(batchId, { id: r.id, expiresAt: r.expiresAt, createdAt: r.createdAt })
    ) {
      found++;
      logger.warn("batch_lost_submit_found", { batch_id: batchId, anthropic_batch_id: r.id });
    }
  }
  return found;
}

/**
 * One collector run: stale submits looked up at Anthropic, the rest failed, then open batches (least recently
 * polled first) within the budget.
 */
export async function collectBatches(deps: CollectDeps): Promise<CollectSummary> {
  const started = deps.clock.monotonic();
  const found = await findLostSubmits(deps);
  const stale = await deps.store.failStaleSubmits(deps.settings.staleSubmitMs);
  const open = await deps.store.openBatches(deps.settings.batchesPerRun);
  const batches: BatchOutcome[] = [];
  for (const b of open) {
    if (deps.clock.monotonic() - started > deps.settings.runBudgetMs) break;
    batches.push(await collectBatch(deps, b, started + deps.settings.runBudgetMs));
  }
  return { lost_submits_found: found, stale_submits_failed: stale, batches };
}
