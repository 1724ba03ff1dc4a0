/**
 * Claude's Message Batches API through `@anthropic-ai/sdk` (`client.messages.batches`): create, retrieve,
 * cancel, and the results file downloaded as raw bytes (the SDK's own `results()` decodes lines; the pipeline
 * stores the file before reading it). Every SDK or HTTP failure becomes a `BatchApiFailure` value here; nothing
 * is thrown past this edge. The SDK's own retries (2, with backoff) stay on: every call here is idempotent
 * except create, and a create retried after a lost answer at worst leaves an unused batch at Anthropic.
 *
 * used by: shared/batch/ (through `BatchApi`); wired in supabase/functions/generate-batch and collect-batches
 */
import Anthropic from "@anthropic-ai/sdk";
import type { BatchApi, BatchApiFailure, BatchApiResult, RemoteBatch } from "../batch/batch_api.ts";

export interface BatchApiOptions {
  apiKey: string;
  baseURL?: string;
  timeoutMs: number;
  /** Forwarded as `x-standin-behavior` (the local Claude stand-in only). */
  standinBehavior?: string;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  maxRetries?: number;
}

function failureOf(err: unknown): BatchApiFailure {
  if (err instanceof Anthropic.APIError) {
    const status = typeof err.status === "number" ? err.status : null;
    const body = err.error as { error?: { type?: unknown } } | undefined;
    const type = typeof body?.error?.type === "string" ? body.error.type : null;
    const unavailable = status === null || status === 408 || status === 409 || status === 429 ||
      status >= 500;
    return {
      kind: unavailable ? "unavailable" : "failed",
      status,
      errorType: type,
      message: err.message.slice(0, 500),
    };
  }
  return {
    kind: "unavailable",
    status: null,
    errorType: null,
    message: (err instanceof Error ? err.message : String(err)).slice(0, 500),
  };
}

function remoteOf(b: Anthropic.Messages.MessageBatch): RemoteBatch {
  return {
    id: b.id,
    status: b.processing_status,
    counts: {
      processing: b.request_counts.processing,
      succeeded: b.request_counts.succeeded,
      errored: b.request_counts.errored,
      canceled: b.request_counts.canceled,
      expired: b.request_counts.expired,
    },
    createdAt: new Date(b.created_at),
    expiresAt: new Date(b.expires_at),
    endedAt: b.ended_at ? new Date(b.ended_at) : null,
    resultsUrl: b.results_url,
  };
}

async function attempt<T>(fn: () => Promise<T>): Promise<BatchApiResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return { ok: false, failure: failureOf(err) };
  }
}

/** The `BatchApi` port over the SDK; never throws. */
export function anthropicBatchApi(opts: BatchApiOptions): BatchApi {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.standinBehavior) headers["x-standin-behavior"] = opts.standinBehavior;
  const client = new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    maxRetries: opts.maxRetries ?? 2,
    timeout: opts.timeoutMs,
    defaultHeaders: headers,
    fetch: opts.fetch,
  });
  return {
    create: (requests) =>
      attempt(async () =>
        remoteOf(
          await client.messages.batches.create({
            requests: requests as unknown as Anthropic.Messages.BatchCreateParams["requests"],
          }),
        )
      ),
    retrieve: (id) => attempt(async () => remoteOf(await client.messages.batches.retrieve(id))),
    cancel: (id) => attempt(async () => remoteOf(await client.messages.batches.cancel(id))),
    listSince: (since) =>
      attempt(async () => {
        const out: RemoteBatch[] = [];
        // Newest first: stop at the first batch older than `since` (the SDK fetches the next page as needed).
        for await (const b of client.messages.batches.list({ limit: 100 })) {
          if (new Date(b.created_at) < since || out.length >= 1000) break;
          out.push(remoteOf(b));
        }
        return out;
      }),
    openResults: (batch) =>
      attempt(async () => {
        if (!batch.resultsUrl) {
          throw new Error(`Cannot download results: batch ${batch.id} has no results_url`);
        }
        const response = await client
          .get(batch.resultsUrl, { headers: { Accept: "application/binary" }, __binaryResponse: true })
          .asResponse();
        const body = response.body;
        if (body === null) throw new Error(`Cannot download results: batch ${batch.id}: empty response`);
        // A connection cut mid-body makes the stream's next read reject: the caller's iteration throws there.
        return body as AsyncIterable<Uint8Array>;
      }),
  };
}
