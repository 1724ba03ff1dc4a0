/**
 * The Message Batches port: what the batch flows ask of Anthropic. The domain owns this contract;
 * shared/adapters/anthropic_batch_api.ts implements it over `@anthropic-ai/sdk` (`client.messages.batches`) and
 * translates every SDK and HTTP failure at its edge into a `BatchApiFailure` value (it never throws).
 */

export type RemoteBatchStatus = "in_progress" | "canceling" | "ended";

export interface RemoteRequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

/** A MessageBatch as the API reports it, reduced to what the pipeline records. */
export interface RemoteBatch {
  id: string;
  status: RemoteBatchStatus;
  counts: RemoteRequestCounts;
  createdAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  resultsUrl: string | null;
}

export interface BatchRequestItem {
  custom_id: string;
  params: Record<string, unknown>;
}

/** `unavailable`: 429, 5xx, timeouts, connection — try later. `failed`: anything else (a 4xx that will not change). */
export interface BatchApiFailure {
  kind: "unavailable" | "failed";
  status: number | null;
  errorType: string | null;
  message: string;
}

export type BatchApiResult<T> = { ok: true; value: T } | { ok: false; failure: BatchApiFailure };

export interface BatchApi {
  create(requests: BatchRequestItem[]): Promise<BatchApiResult<RemoteBatch>>;
  retrieve(id: string): Promise<BatchApiResult<RemoteBatch>>;
  cancel(id: string): Promise<BatchApiResult<RemoteBatch>>;
  /** The workspace's batches created at or after `since`, newest first (`batches.list`, paged; at most 1,000). */
  listSince(since: Date): Promise<BatchApiResult<RemoteBatch[]>>;
  /**
   * The results file as it arrives, chunk by chunk, byte for byte (the collector never holds the whole file). A
   * refused request is a failure value; a download cut mid-body makes the iteration throw there, never end
   * quietly as a short file.
   */
  openResults(batch: RemoteBatch): Promise<BatchApiResult<AsyncIterable<Uint8Array>>>;
}
