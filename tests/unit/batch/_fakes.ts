/** Fakes of the batch ports (in memory) shared by the batch unit tests. */
import type {
  BatchApi,
  BatchApiResult,
  BatchRequestItem,
  RemoteBatch,
} from "../../../shared/batch/batch_api.ts";
import { BATCH_DEFAULTS, type BatchSettings } from "../../../shared/batch/batch_env.ts";
import type {
  BatchConversation,
  BatchRecord,
  BatchReservation,
  BatchState,
  BatchStore,
  BatchView,
  NewBatch,
} from "../../../shared/batch/batch_store.ts";
import type { NewConversation } from "../../../shared/generate/conversation_repo.ts";
import type { Clock } from "../../../shared/pipeline/clock.ts";

export const USER = "6a1c2b9e-7a4d-4c1e-9a57-2d3c4b5a6f70";
export const NOW = new Date("2026-12-03T06:00:00Z");

export const clock: Clock = { now: () => NOW, monotonic: () => 0, sleep: () => Promise.resolve() };

export const settings: BatchSettings = { ...BATCH_DEFAULTS, partBytes: 1024 };

/** A batch row for the fake store: USER's, one request, nothing reserved, not a re-queue; `over` changes any field. */
export function fakeBatch(batchId: string, over: Partial<NewBatch> = {}): NewBatch {
  return {
    batchId,
    userId: USER,
    model: "claude-sonnet-4-5",
    requestCount: 1,
    idempotencyKey: null,
    requestHash: "0".repeat(64),
    tokensReserved: 0,
    tokensWindowStart: null,
    requeueOf: null,
    requeueDepth: 0,
    ...over,
  };
}

export interface FakeConv {
  id: string;
  userId: string;
  status: string;
  batchId: string;
  error: string | null;
  sha: string | null;
  outputTokens: number | null;
  costUsd: number | null;
  snapshot: Record<string, unknown> | null;
}

interface FakeBatch extends BatchRecord {
  idempotencyKey: string | null;
  tokensReserved: number;
  collectedCounts: Record<string, number>;
  missing: number;
  lastError: string | null;
  cancelRequested: boolean;
  released: number;
}

/** An in-memory BatchStore applying the same guards as the SQL. */
export class FakeBatchStore implements BatchStore {
  batches = new Map<string, FakeBatch>();
  convs = new Map<string, FakeConv>();
  released: number[] = [];
  /** Output tokens a re-queue carries per moved request (the real store: each one's max_tokens). */
  requeueCarriesPerRequest = 0;
  refuse: BatchReservation | null = null;

  findByIdempotencyKey(userId: string, key: string) {
    return Promise.resolve(
      [...this.batches.values()].find((b) => b.userId === userId && b.idempotencyKey === key) ?? null,
    );
  }
  reserve(): Promise<BatchReservation> {
    return Promise.resolve(this.refuse ?? { allowed: true, tokensCharged: true, tokensWindowStart: NOW });
  }
  releaseTokens(_u: string, _w: Date, amount: number) {
    this.released.push(amount);
    return Promise.resolve();
  }
  #newBatch(b: NewBatch): FakeBatch {
    return {
      id: b.batchId,
      userId: b.userId,
      anthropicBatchId: null,
      state: "submitting",
      requestCount: b.requestCount,
      model: b.model,
      requestHash: b.requestHash,
      requeueDepth: b.requeueDepth,
      collectAttempts: 0,
      resultsSha256: null,
      resultsParts: null,
      createdAt: NOW,
      expiresAt: null,
      idempotencyKey: b.idempotencyKey,
      tokensReserved: b.tokensReserved,
      collectedCounts: {},
      missing: 0,
      lastError: null,
      cancelRequested: false,
      released: 0,
    };
  }
  insertBatch(b: NewBatch, conversations: NewConversation[]) {
    if (b.idempotencyKey !== null) {
      const existing = [...this.batches.values()].find((x) =>
        x.userId === b.userId && x.idempotencyKey === b.idempotencyKey
      );
      if (existing) return Promise.resolve({ inserted: false as const, existing });
    }
    this.batches.set(b.batchId, this.#newBatch(b));
    for (const c of conversations) {
      this.convs.set(c.conversationId, {
        id: c.conversationId,
        userId: c.userId,
        status: "batch_queued",
        batchId: b.batchId,
        error: null,
        sha: null,
        outputTokens: null,
        costUsd: null,
        snapshot: c.snapshot,
      });
    }
    return Promise.resolve({ inserted: true as const });
  }
  insertRequeue(b: NewBatch, ids: string[]) {
    this.batches.set(b.batchId, this.#newBatch(b));
    let n = 0;
    for (const id of ids) {
      const c = this.convs.get(id);
      if (c && c.batchId === b.requeueOf && c.status === "batch_queued") {
        c.batchId = b.batchId;
        n++;
      }
    }
    const carried = n * this.requeueCarriesPerRequest;
    return Promise.resolve({
      moved: n,
      tokensCarried: carried,
      tokensWindowStart: carried > 0 ? new Date(0) : null,
    });
  }
  markSubmitted(id: string, remote: { id: string; expiresAt: Date; createdAt: Date }) {
    const b = this.batches.get(id);
    if (!b || b.state !== "submitting") return Promise.resolve(false);
    Object.assign(b, { anthropicBatchId: remote.id, state: "in_progress", expiresAt: remote.expiresAt });
    return Promise.resolve(true);
  }
  markSubmitFailed(id: string, error: string) {
    const b = this.batches.get(id)!;
    if (b.state === "submitting") Object.assign(b, { state: "failed", lastError: error });
    return Promise.resolve(this.#fail(id, [...this.convs.keys()].map((c) => ({ conversationId: c, error }))));
  }
  #fail(batchId: string, rows: { conversationId: string; error: string }[]): number {
    let n = 0;
    for (const r of rows) {
      const c = this.convs.get(r.conversationId);
      if (c && c.batchId === batchId && c.status === "batch_queued") {
        Object.assign(c, { status: "generation_failed", error: r.error });
        n++;
      }
    }
    return n;
  }
  markLost(id: string, error: string) {
    const b = this.batches.get(id)!;
    if (!["in_progress", "canceling", "ended"].includes(b.state)) return Promise.resolve(0);
    Object.assign(b, { state: "failed", lastError: error });
    return Promise.resolve(this.#fail(id, [...this.convs.keys()].map((c) => ({ conversationId: c, error }))));
  }
  get(id: string, userId: string | null): Promise<BatchView | null> {
    const b = this.batches.get(id);
    if (!b || (userId !== null && b.userId !== userId)) return Promise.resolve(null);
    const counts: Record<string, number> = {};
    for (const c of this.convs.values()) if (c.batchId === id) counts[c.status] = (counts[c.status] ?? 0) + 1;
    return Promise.resolve({
      batch_id: b.id,
      anthropic_batch_id: b.anthropicBatchId,
      state: b.state,
      request_count: b.requestCount,
      model: b.model,
      created_at: NOW.toISOString(),
      submitted_at: null,
      expires_at: null,
      ended_at: null,
      collected_at: null,
      anthropic_counts: {},
      collected_counts: b.collectedCounts,
      missing_count: b.missing,
      conversation_counts: counts,
      last_error: b.lastError,
    });
  }
  async list(userId: string | null, limit: number) {
    const out: BatchView[] = [];
    for (const b of this.batches.values()) {
      if (userId === null || b.userId === userId) out.push((await this.get(b.id, null))!);
    }
    return out.slice(0, limit);
  }
  record(id: string) {
    return Promise.resolve(this.batches.get(id) ?? null);
  }
  conversationIds(id: string) {
    return Promise.resolve([...this.convs.values()].filter((c) => c.batchId === id).map((c) => c.id));
  }
  openBatches(limit: number) {
    const open = ["in_progress", "canceling", "ended", "results_stored"];
    return Promise.resolve([...this.batches.values()].filter((b) => open.includes(b.state)).slice(0, limit));
  }
  /** Every `submitting` batch counts as stale (older than BATCH_STALE_SUBMIT_MS) when set. */
  submitsStale = false;
  staleSubmits() {
    const rows = this.submitsStale
      ? [...this.batches.values()].filter((b) => b.state === "submitting").map((b) => ({
        batchId: b.id,
        requestCount: b.requestCount,
        createdAt: b.createdAt,
      }))
      : [];
    return Promise.resolve(rows);
  }
  knownAnthropicIds(ids: string[]) {
    const known = new Set([...this.batches.values()].map((b) => b.anthropicBatchId));
    return Promise.resolve(new Set(ids.filter((id) => known.has(id))));
  }
  failStaleSubmits() {
    if (!this.submitsStale) return Promise.resolve(0);
    const stale = [...this.batches.values()].filter((b) => b.state === "submitting");
    for (const b of stale) Object.assign(b, { state: "failed", lastError: "batch_not_submitted: stale" });
    return Promise.resolve(stale.length);
  }
  recordPoll(id: string, state: BatchState) {
    const b = this.batches.get(id)!;
    if (b.state === "in_progress" || b.state === "canceling") b.state = state;
    return Promise.resolve();
  }
  markCancelRequested(id: string) {
    const b = this.batches.get(id)!;
    b.cancelRequested = true;
    if (b.state === "in_progress") b.state = "canceling";
    return Promise.resolve(true);
  }
  recordResults(id: string, r: { sha256: string; parts: BatchRecord["resultsParts"] }) {
    const b = this.batches.get(id)!;
    if (b.state === "ended" && b.resultsSha256 === null) {
      Object.assign(b, { state: "results_stored", resultsSha256: r.sha256, resultsParts: r.parts });
    }
    return Promise.resolve(b);
  }
  conversations(id: string): Promise<BatchConversation[]> {
    const requeued = new Set([...this.batches.values()].filter((b) => b.requeueDepth > 0).map((b) => b.id));
    return Promise.resolve(
      [...this.convs.values()].filter((c) => c.batchId === id || requeued.has(c.batchId)).map((c) => ({
        conversationId: c.id,
        userId: c.userId,
        status: c.status,
        batchId: c.batchId,
      })),
    );
  }
  snapshots(ids: string[]) {
    return Promise.resolve(new Map(ids.map((id) => [id, this.convs.get(id)?.snapshot ?? null])));
  }
  recordSucceeded(
    batchId: string,
    rows: {
      conversationId: string;
      record: { rawSha256: string; outputTokens: number | null; costUsd: number | null };
    }[],
  ) {
    const out: string[] = [];
    for (const r of rows) {
      const c = this.convs.get(r.conversationId);
      if (c && c.batchId === batchId && c.status === "batch_queued") {
        Object.assign(c, {
          sha: r.record.rawSha256,
          outputTokens: r.record.outputTokens,
          costUsd: r.record.costUsd,
        });
        out.push(c.id);
      }
    }
    return Promise.resolve(out);
  }
  markFailed(batchId: string, rows: { conversationId: string; error: string }[]) {
    return Promise.resolve(this.#fail(batchId, rows));
  }
  recordCollectError(id: string, error: string) {
    const b = this.batches.get(id)!;
    b.lastError = error;
    b.collectAttempts++;
    return Promise.resolve();
  }
  markCollected(id: string, tally: { counts: Record<string, number>; missing: number }) {
    const b = this.batches.get(id)!;
    if (b.state !== "results_stored") return Promise.resolve(false);
    Object.assign(b, { state: "collected", collectedCounts: tally.counts, missing: tally.missing });
    return Promise.resolve(true);
  }
  /** What the storage trigger does when a raw object lands. */
  markRawStored(id: string) {
    this.convs.get(id)!.status = "raw_stored";
  }
}

/** A Batches API that ends when told and serves the given results lines. */
export class FakeBatchApi implements BatchApi {
  created: BatchRequestItem[][] = [];
  status: RemoteBatch["status"] = "in_progress";
  results: string[] | null = null;
  failCreate = false;
  failDownload = false;
  canceled: string[] = [];

  #remote(id: string, n: number): RemoteBatch {
    return {
      id,
      status: this.status,
      counts: {
        processing: this.status === "ended" ? 0 : n,
        succeeded: n,
        errored: 0,
        canceled: 0,
        expired: 0,
      },
      createdAt: NOW,
      expiresAt: new Date(NOW.getTime() + 86_400_000),
      endedAt: this.status === "ended" ? NOW : null,
      resultsUrl: this.status === "ended" ? `http://standin/${id}/results` : null,
    };
  }
  create(requests: BatchRequestItem[]) {
    if (this.failCreate) {
      return Promise.resolve({
        ok: false as const,
        failure: {
          kind: "unavailable" as const,
          status: 529,
          errorType: "overloaded_error",
          message: "busy",
        },
      });
    }
    this.created.push(requests);
    return Promise.resolve({ ok: true as const, value: this.#remote(`msgbatch_${this.created.length}`, 0) });
  }
  /** What `listSince` answers (batches created at Anthropic, newest first). */
  listed: RemoteBatch[] = [];
  listSince() {
    return Promise.resolve({ ok: true as const, value: this.listed });
  }
  lost = false;
  retrieve(id: string): Promise<BatchApiResult<RemoteBatch>> {
    if (this.lost) {
      return Promise.resolve({
        ok: false as const,
        failure: { kind: "failed" as const, status: 404, errorType: "not_found_error", message: "not found" },
      });
    }
    return Promise.resolve({ ok: true as const, value: this.#remote(id, 0) });
  }
  cancel(id: string) {
    this.canceled.push(id);
    return Promise.resolve({
      ok: true as const,
      value: { ...this.#remote(id, 0), status: "canceling" as const },
    });
  }
  /** Bytes per chunk of the results stream (small: parts are assembled from many chunks). */
  chunkBytes = 7;
  /** Cut the stream (the iteration throws) after this many bytes; null: deliver the whole file. */
  cutAfterBytes: number | null = null;
  openResults() {
    if (this.failDownload || this.results === null) {
      return Promise.resolve({
        ok: false as const,
        failure: { kind: "unavailable" as const, status: null, errorType: null, message: "connection cut" },
      });
    }
    const file = new TextEncoder().encode(this.results.map((l) => l + "\n").join(""));
    const { chunkBytes, cutAfterBytes } = this;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let off = 0; off < file.length; off += chunkBytes) {
        if (cutAfterBytes !== null && off >= cutAfterBytes) throw new Error("connection reset mid-body");
        yield file.slice(off, off + chunkBytes);
      }
    }
    return Promise.resolve({ ok: true as const, value: chunks() as AsyncIterable<Uint8Array> });
  }
}

/** A results line for a conversation. */
export function line(customId: string, type: "succeeded" | "errored" | "canceled" | "expired"): string {
  const result = type === "succeeded"
    ? {
      type,
      message: {
        id: `msg_${customId.slice(0, 8)}`,
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [{ type: "text", text: '{"turns":[]}' }],
        stop_reason: "end_turn",
        usage: { input_tokens: 1000, output_tokens: 2000, service_tier: "batch" },
      },
    }
    : type === "errored"
    ? { type, error: { type: "error", error: { type: "invalid_request_error", message: "bad params" } } }
    : { type };
  return JSON.stringify({ custom_id: customId, result });
}
