/**
 * Operating batches: one batch's state with its conversations counted per status, a user's batches, and cancel
 * (`messages.batches.cancel`: the batch goes `canceling`, then ends with `canceled` results for what was not
 * processed, which the collector records like any other ending).
 *
 * called by: shared/batch/handle_generate_batch.ts
 */
import { appError } from "../errors.ts";
import { logger } from "../log.ts";
import type { BatchApi } from "./batch_api.ts";
import type { BatchStore, BatchView } from "./batch_store.ts";

/**
 * One batch as its owner (or the service role, `userId` null) sees it, with its conversation ids; 404
 * `not_found` when absent or not theirs.
 */
export async function batchStatus(
  store: BatchStore,
  batchId: string,
  userId: string | null,
): Promise<BatchView> {
  const view = await store.get(batchId, userId);
  if (!view) throw appError("not_found", `Cannot find batch ${batchId}`);
  return { ...view, conversation_ids: await store.conversationIds(batchId) };
}

/** A user's batches newest first (all users' for the service role), at most `limit`, counts per state. */
export async function listBatches(
  store: BatchStore,
  userId: string | null,
  limit: number,
): Promise<BatchView[]> {
  return await store.list(userId, limit);
}

/**
 * Asks Anthropic to cancel the batch. 404 when absent or not the caller's; 409 `conflict` when it has no
 * Anthropic id yet or has already ended; 502/503 when Anthropic refuses or does not answer.
 */
export async function cancelBatch(
  deps: { store: BatchStore; api: BatchApi },
  batchId: string,
  userId: string | null,
): Promise<BatchView> {
  const view = await batchStatus(deps.store, batchId, userId);
  if (view.anthropic_batch_id === null || !["in_progress", "canceling"].includes(view.state)) {
    throw appError("conflict", `Cannot cancel batch ${batchId}: its state is ${view.state}`);
  }
  const res = await deps.api.cancel(view.anthropic_batch_id);
  if (!res.ok) {
    const f = res.failure;
    throw appError(
      f.kind === "unavailable" ? "upstream_unavailable" : "upstream_failed",
      `Cannot cancel batch ${batchId}: Anthropic answered ${f.status ?? "nothing"} ${f.errorType ?? ""}`
        .trim(),
      { batch_id: batchId },
    );
  }
  await deps.store.markCancelRequested(batchId);
  logger.info("batch_cancel_requested", { batch_id: batchId, anthropic_batch_id: view.anthropic_batch_id });
  return await batchStatus(deps.store, batchId, userId);
}
