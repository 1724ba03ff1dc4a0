/**
 * Uploads raw responses that generate-conversation had to spool in Postgres while Storage was down
 * (`raw_response_spool`, status `raw_spooled`). The upload goes through the Storage API like any other raw
 * upload, so the storage trigger marks the row `raw_stored` and wakes the parse in the object row's transaction;
 * the spool row is deleted only after that, guarded by its sha256.
 *
 * called by: shared/parse_flow/handle_parse_conversation.ts on `{flush_spool: true}` (sent by the sweeper
 * private.sweep_conversations when spool rows are due).
 *
 * Idempotent: if a previous flush uploaded but could not delete the spool row, the next one finds the object
 * (409), checks it holds the same bytes and deletes the row. An object at that path with other bytes (a user
 * upload raced the flush) is replaced: the spooled bytes are what Claude sent.
 */
import { rawObjectPath } from "../pipeline/object_paths.ts";
import { sha256Hex } from "../pipeline/sha256.ts";
import { logger, RUNBOOK_LINES } from "../log.ts";
import type { ParseFlowDeps } from "./parse_conversation.ts";
import type { SpooledRaw } from "./parse_queue.ts";

export type SpoolItemResult = {
  conversation_id: string;
  result: "uploaded" | "already_stored" | "replaced" | "deferred" | "error";
  error?: string;
};

export interface SpoolFlushResult {
  leased: number;
  uploaded: number;
  already_stored: number;
  replaced: number;
  deferred: number;
  errors: number;
  items: SpoolItemResult[];
}

async function flushOne(deps: ParseFlowDeps, item: SpooledRaw): Promise<SpoolItemResult> {
  const id = item.conversationId;
  const path = rawObjectPath(item.userId, id);
  const ctx = { conversation_id: id, path, upload_attempt: item.uploadAttempts };
  const actualSha = await sha256Hex(item.raw);
  if (actualSha !== item.rawSha256.toLowerCase()) {
    // Never drop bytes: upload them anyway; the parse's sha256 check then sends the item to review.
    logger.error("spool_sha256_mismatch", { ...ctx, expected: item.rawSha256, actual: actualSha });
  }
  const defer = async (error: string): Promise<SpoolItemResult> => {
    await deps.queue.deferSpool(id, deps.clock.now(), error);
    logger.warn("spool_upload_deferred", { ...ctx, error });
    return { conversation_id: id, result: "deferred", error };
  };

  const first = await deps.store.upload(path, item.raw, { upsert: false, contentType: item.contentType });
  let result: SpoolItemResult["result"] = "uploaded";
  if (!first.ok && first.kind === "exists") {
    const existing = await deps.store.download(path);
    if (!existing.ok) {
      const why = existing.kind === "unavailable" ? existing.message : "it disappeared";
      return await defer(`Cannot compare with the object already stored: ${why}`);
    }
    if (await sha256Hex(existing.bytes) === actualSha) {
      result = "already_stored";
    } else {
      const replace = await deps.store.upload(path, item.raw, {
        upsert: true,
        contentType: item.contentType,
      });
      if (!replace.ok) {
        return await defer(
          `Cannot replace the stored object: ${replace.kind === "exists" ? "exists" : replace.message}`,
        );
      }
      logger.warn("spool_replaced_object", ctx, "a different object was stored at the raw path; replaced");
      result = "replaced";
    }
  } else if (!first.ok) {
    return await defer(`Cannot upload the spooled raw response: ${first.message}`);
  }
  await deps.queue.finishSpool(id, item.rawSha256);
  logger.info("spool_flushed", { ...ctx, result }, RUNBOOK_LINES.rawUploaded(path));
  return { conversation_id: id, result };
}

/**
 * Uploads up to `limit` due spool rows, one at a time, and counts what happened to each. Bytes are never dropped:
 * a sha256 mismatch is logged and uploaded anyway (the parse then sends it to review); an upload that fails is
 * `deferred` (the row stays, with its next try set); a row whose upload threw is an `error` and is retried when
 * its lease runs out. The spool row is deleted only after the object holds its bytes. Throws only when leasing
 * the rows fails (the database is down).
 */
export async function flushSpool(deps: ParseFlowDeps, limit: number): Promise<SpoolFlushResult> {
  const items = await deps.queue.leaseSpool(deps.clock.now(), limit);
  const out: SpoolFlushResult = {
    leased: items.length,
    uploaded: 0,
    already_stored: 0,
    replaced: 0,
    deferred: 0,
    errors: 0,
    items: [],
  };
  // One at a time: spooled bodies can be megabytes each, and the lease keeps the rest for the next flush.
  for (const item of items) {
    let r: SpoolItemResult;
    try {
      r = await flushOne(deps, item);
    } catch (err) {
      // The lease runs out and the next flush retries; the upload itself is idempotent.
      const error = err instanceof Error ? err.message : String(err);
      logger.error("spool_flush_failed", { conversation_id: item.conversationId, error });
      r = { conversation_id: item.conversationId, result: "error", error };
    }
    out.items.push(r);
    if (r.result === "error") out.errors++;
    else out[r.result]++;
  }
  return out;
}
