/**
 * The batch flows' database port: the batches table, the `batch_queued` conversations and their two exits. The
 * domain (shared/batch/) owns this contract; shared/adapters/postgres_batch_store.ts implements it, one guarded
 * statement (or transaction) per state change; zero rows changed is returned as a value, never thrown.
 */
import type { ClaudeRecord, NewConversation } from "../generate/conversation_repo.ts";
import type { RemoteRequestCounts } from "./batch_api.ts";

export type BatchState =
  | "submitting"
  | "in_progress"
  | "canceling"
  | "ended"
  | "results_stored"
  | "collected"
  | "failed";

export interface ResultsPart {
  path: string;
  sha256: string;
  size: number;
  lines: number;
}

/** A batch row as the flows read it. */
export interface BatchRecord {
  id: string;
  userId: string;
  anthropicBatchId: string | null;
  state: BatchState;
  requestCount: number;
  model: string;
  requestHash: string;
  requeueDepth: number;
  /** Collector runs that ended in an error for this batch (a short results file is downloaded again thrice). */
  collectAttempts: number;
  resultsSha256: string | null;
  resultsParts: ResultsPart[] | null;
  createdAt: Date;
  expiresAt: Date | null;
}

/** What a client sees of a batch: the row, the conversations' states counted, and (for one batch) their ids. */
export interface BatchView {
  batch_id: string;
  anthropic_batch_id: string | null;
  state: BatchState;
  request_count: number;
  model: string;
  created_at: string;
  submitted_at: string | null;
  expires_at: string | null;
  ended_at: string | null;
  collected_at: string | null;
  /** Anthropic's request_counts as last polled. */
  anthropic_counts: Record<string, number>;
  /** The collector's tally: per result type, missing, unknown. */
  collected_counts: Record<string, number>;
  missing_count: number;
  /** Conversations of this batch per processing_status. */
  conversation_counts: Record<string, number>;
  last_error: string | null;
  conversation_ids?: string[];
}

export interface NewBatch {
  batchId: string;
  userId: string;
  model: string;
  requestCount: number;
  idempotencyKey: string | null;
  requestHash: string;
  tokensReserved: number;
  tokensWindowStart: Date | null;
  requeueOf: string | null;
  requeueDepth: number;
}

export interface RequeueOutcome {
  moved: number;
  tokensCarried: number;
  tokensWindowStart: Date | null;
}

export type InsertBatchOutcome = { inserted: true } | { inserted: false; existing: BatchRecord };

/** A conversation of a batch as the collector sees it. */
export interface BatchConversation {
  conversationId: string;
  userId: string;
  status: string;
  /** The batch it is in now (differs from the one collected once it was re-queued). */
  batchId: string;
}

export interface SucceededRecord {
  conversationId: string;
  record: ClaudeRecord;
}

export interface BatchReservationInput {
  userId: string;
  requests: number;
  tokens: number;
  isService: boolean;
}

export type BatchReservation =
  | { allowed: true; tokensCharged: boolean; tokensWindowStart: Date | null }
  | {
    allowed: false;
    limit: "generate_requests_per_minute" | "generate_output_tokens_per_day";
    maxAmount: number;
    used: number;
    resetAt: Date;
  };

export interface BatchStore {
  findByIdempotencyKey(userId: string, key: string): Promise<BatchRecord | null>;
  reserve(input: BatchReservationInput): Promise<BatchReservation>;
  /** Gives reserved output tokens back (a refused or failed submit). */
  releaseTokens(userId: string, windowStart: Date, amount: number): Promise<void>;
  /** One transaction: the batch row (`submitting`) and its `batch_queued` conversations. */
  insertBatch(batch: NewBatch, conversations: NewConversation[]): Promise<InsertBatchOutcome>;
  /**
   * One transaction: a new batch (`submitting`) and the given conversations moved into it (still queued), with
   * their output-token reservation (each one's max_tokens, at most what the original batch still holds) moved
   * from the original batch to the new one in the same usage window: the original's settlement no longer gives
   * it back, the new batch's does. `moved` 0: nothing was still queued (nothing inserted).
   */
  insertRequeue(batch: NewBatch, conversationIds: string[]): Promise<RequeueOutcome>;
  /** `submitting` → `in_progress` with the Anthropic id. False: the row had moved on. */
  markSubmitted(batchId: string, remote: { id: string; expiresAt: Date; createdAt: Date }): Promise<boolean>;
  /** `submitting` → `failed`, its queued conversations → `generation_failed`; returns how many. */
  markSubmitFailed(batchId: string, error: string): Promise<number>;
  /**
   * An open batch Anthropic no longer knows (404: deleted, or an id from another workspace) → `failed`, its
   * queued conversations → `generation_failed` with the error; returns how many.
   */
  markLost(batchId: string, error: string): Promise<number>;
  get(batchId: string, userId: string | null): Promise<BatchView | null>;
  list(userId: string | null, limit: number): Promise<BatchView[]>;
  record(batchId: string): Promise<BatchRecord | null>;
  conversationIds(batchId: string): Promise<string[]>;
  /** Batches the collector has work on, least recently polled first. */
  openBatches(limit: number): Promise<BatchRecord[]>;
  /** `private.fail_stale_batch_submits`: submits that never got an Anthropic id. Returns batches failed. */
  failStaleSubmits(afterMs: number): Promise<number>;
  /** Batches still `submitting` after `afterMs` (what failStaleSubmits would fail now), oldest first. */
  staleSubmits(afterMs: number): Promise<{ batchId: string; requestCount: number; createdAt: Date }[]>;
  /** Which of these Anthropic batch ids a batch row already records. */
  knownAnthropicIds(ids: string[]): Promise<Set<string>>;
  /** The batch as last polled: state (only forward: in_progress/canceling → ended), counts, end time. */
  recordPoll(
    batchId: string,
    state: BatchState,
    counts: RemoteRequestCounts,
    endedAt: Date | null,
  ): Promise<void>;
  markCancelRequested(batchId: string): Promise<boolean>;
  /** `ended` → `results_stored` with the file's sha256, size, lines and parts; the first writer wins. */
  recordResults(
    batchId: string,
    results: { sha256: string; size: number; lines: number; parts: ResultsPart[] },
  ): Promise<BatchRecord | null>;
  /**
   * Every conversation of the batch, and those re-queued from it: ids and states only (the collector keeps
   * these for the whole batch, so no prompt snapshot here).
   */
  conversations(batchId: string): Promise<BatchConversation[]>;
  /** The scaffolding snapshots (prompt, model, max_tokens) of these conversations, for a re-queue. */
  snapshots(conversationIds: string[]): Promise<Map<string, Record<string, unknown> | null>>;
  /** Claude's metadata on rows still `batch_queued` in this batch; returns the ids it wrote (to upload). */
  recordSucceeded(batchId: string, rows: SucceededRecord[]): Promise<string[]>;
  /** Rows still `batch_queued` in this batch → `generation_failed` with their error; returns how many. */
  markFailed(batchId: string, rows: { conversationId: string; error: string }[]): Promise<number>;
  recordCollectError(batchId: string, error: string): Promise<void>;
  /**
   * `results_stored` → `collected` with the tally, and the reserved tokens Claude did not use given back, once
   * (only the call that moves the row settles). False: already collected.
   */
  markCollected(
    batchId: string,
    tally: { counts: Record<string, number>; missing: number; unknown: number },
  ): Promise<boolean>;
}
