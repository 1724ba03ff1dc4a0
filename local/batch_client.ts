/**
 * The batch functions over HTTP, for commands (cli/batch.ts, `./bin/start --batch`), benchmarks and tests:
 * submit to generate-batch (the service key acting for a user), read and cancel batches, and run one
 * collector pass (collect-batches) as pg_cron would. Every call returns the parsed JSON or throws with the
 * function's own error message.
 */
import type { SubmittedBatch } from "../shared/batch/submit_batch.ts";

export interface BatchEndpoint {
  /** The project URL (http://127.0.0.1:54321 locally). */
  url: string;
  serviceKey: string;
}

async function call(
  ep: BatchEndpoint,
  path: string,
  init: { method?: string; userId?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${ep.serviceKey}`,
    ...(init.headers ?? {}),
  };
  if (init.userId) headers["x-user-id"] = init.userId;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${ep.url}/functions/v1/${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${path}: answered ${res.status} with a body that is not JSON`);
  }
  if (res.status >= 400) {
    const e = body.error as { code?: string; message?: string } | undefined;
    throw new Error(`${path}: ${res.status} ${e?.code ?? ""} ${e?.message ?? text.slice(0, 200)}`.trim());
  }
  return { status: res.status, body };
}

/** POST /generate-batch: 202 (or 200 on an Idempotency-Key replay). */
export async function submitBatch(
  ep: BatchEndpoint,
  userId: string,
  requests: unknown[],
  idempotencyKey?: string,
): Promise<SubmittedBatch> {
  const res = await call(ep, "generate-batch", {
    method: "POST",
    userId,
    body: { requests },
    headers: idempotencyKey ? { "idempotency-key": idempotencyKey } : {},
  });
  return res.body as unknown as SubmittedBatch;
}

/** GET /generate-batch/{id} (with its conversation ids), or the user's list when `batchId` is null. */
export async function readBatches(
  ep: BatchEndpoint,
  userId: string | null,
  batchId: string | null,
): Promise<Record<string, unknown>[]> {
  if (batchId) return [(await call(ep, `generate-batch/${batchId}`, { userId })).body];
  return (await call(ep, "generate-batch?limit=100", { userId })).body.batches as Record<string, unknown>[];
}

/** POST /generate-batch/{id}/cancel. */
export async function cancelBatch(
  ep: BatchEndpoint,
  userId: string | null,
  batchId: string,
): Promise<Record<string, unknown>> {
  return (await call(ep, `generate-batch/${batchId}/cancel`, { method: "POST", userId })).body;
}

/** One collector pass: POST /collect-batches. */
export async function collectOnce(ep: BatchEndpoint): Promise<Record<string, unknown>> {
  return (await call(ep, "collect-batches", { method: "POST" })).body;
}

/**
 * Runs the collector every `everyMs` until the batch is collected or failed (or `timeoutMs` passes), calling
 * `onRun` with the batch after each pass. Returns the batch as last read.
 */
export async function collectUntilDone(
  ep: BatchEndpoint,
  batchId: string,
  opts: { everyMs?: number; timeoutMs?: number; onRun?: (batch: Record<string, unknown>) => void } = {},
): Promise<Record<string, unknown>> {
  const started = Date.now();
  while (true) {
    await collectOnce(ep);
    const [batch] = await readBatches(ep, null, batchId);
    opts.onRun?.(batch);
    if (batch.state === "collected" || batch.state === "failed") return batch;
    if (Date.now() - started > (opts.timeoutMs ?? 600_000)) {
      throw new Error(`Batch ${batchId} not collected within ${(opts.timeoutMs ?? 600_000) / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 500));
  }
}
