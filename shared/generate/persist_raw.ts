/**
 * Phase 3 of the generate flow: Claude's answer made durable, verbatim, before anything parses it.
 *
 *   write-ahead (shared/generate/write_ahead.ts) → upload raw/{user_id}/{conversation_id}.json (write-once,
 *   shared/generate/raw_upload.ts) → drop the write-ahead copy → the storage trigger marks `raw_stored` and wakes
 *   parse-conversation.
 *
 * Where the bytes end up is the phase's result, one of five (docs/GENERATE.md "Never losing a response"):
 * - `uploaded`: the object is in Storage (with `databaseDown` when the write-ahead was refused: the trigger and
 *   the reconciler rebuild the row from the object, which carries model, usage and stop_reason itself).
 * - `late`: the upload seemed to fail, but the row had moved on — the storage trigger saw the object after all.
 * - `spooled`: Storage failed after retries; one statement put the bytes in raw_response_spool and the row in
 *   `raw_spooled` (the sweeper uploads them later).
 * - `held`: the spool statement failed too, but the write-ahead copy is durable: the sweeper's flush uploads it
 *   once its lease ends (the row says `generating` until then).
 * - `unsaved`: neither Storage nor the database took them: the body went to the function logs at error level, in
 *   chunks under the log line limit.
 *
 * A kill at any point after the write-ahead committed leaves the bytes in the spool for the flush; a kill while
 * a slow write-ahead is still running, once the log-ahead has logged the body (shared/generate/log_ahead.ts),
 * leaves them in the function log for `deno task recover`.
 *
 * used by: shared/generate/generate.ts; next: shared/generate/answer.ts
 */
import type { ConversationRepo, SpoolOutcome, WriteAheadInput } from "./conversation_repo.ts";
import type { ClaudeAnswered } from "./call_claude.ts";
import type { GenerateSettings } from "./config.ts";
import { estimateCostUsd } from "./cost.ts";
import { type RawUpload, uploadRaw } from "./raw_upload.ts";
import { writeAhead } from "./write_ahead.ts";
import { logger, RUNBOOK_LINES } from "../log.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { rawObjectPath } from "../pipeline/object_paths.ts";
import { sha256HexSync } from "../pipeline/sha256.ts";
import type { PhaseTimer } from "../http/server_timing.ts";

export interface PersistRawDeps {
  repo: ConversationRepo;
  store: ObjectStore;
  clock: Clock;
  config: GenerateSettings;
  /** This worker's generations in flight (shared/generate/worker_load.ts); read by the log-ahead. */
  load?: { readonly generations: number };
}

/** Where the answer's bytes are durable when the phase ends (see the header). */
export type RawPersisted =
  | { kind: "uploaded"; path: string; databaseDown: boolean }
  | { kind: "late"; path: string; databaseDown: boolean }
  | { kind: "spooled" }
  | { kind: "held" }
  | { kind: "unsaved" };

/** Supabase keeps log lines up to 10,000 characters; the last-resort dump stays well under it. */
const LOG_CHUNK_CHARS = 8000;

/**
 * Stores the answer's bytes: written ahead, uploaded, else spooled, else held in the write-ahead copy, else
 * logged. Never throws for Storage or the database: each failure moves the bytes to the next store, and the
 * result says which one holds them.
 */
export async function persistRaw(
  deps: PersistRawDeps,
  conversation: { conversationId: string; userId: string },
  call: ClaudeAnswered,
  timer: PhaseTimer,
): Promise<RawPersisted> {
  const { repo, config } = deps;
  const { conversationId, userId } = conversation;
  const answer = call.answer;
  const bytes = new TextEncoder().encode(answer.body);
  // Synchronous: no turn of the event loop between the last byte and the first durable store (the log-ahead).
  const sha256 = sha256HexSync(bytes);
  const path = rawObjectPath(userId, conversationId);
  const input: WriteAheadInput = {
    conversationId,
    kind: "write_ahead",
    raw: bytes,
    leaseMs: config.writeAheadLeaseMs,
    record: {
      rawSha256: sha256,
      stopReason: answer.stopReason,
      model: answer.model,
      inputTokens: answer.usage.input_tokens,
      outputTokens: answer.usage.output_tokens,
      costUsd: estimateCostUsd(answer.model ?? config.model, answer.usage),
      truncated: call.truncated,
      attempts: answer.attempts,
    },
  };
  const ahead = await writeAhead(deps, input, timer, call);

  logger.info(
    "raw_store_started",
    { conversation_id: conversationId, raw_size: bytes.byteLength },
    RUNBOOK_LINES.storingRaw,
  );
  const upload = await timer.time("raw_store", () => uploadRaw(deps, path, bytes, sha256, conversationId));
  ahead.stop();
  if (upload.ok) {
    // The object is stored: a write-ahead retry still in flight is harmless (the row has moved on, or the flush
    // finds the identical object).
    logger.info(
      "raw_stored",
      {
        conversation_id: conversationId,
        path,
        raw_size: bytes.byteLength,
        raw_sha256: sha256,
        attempts: upload.attempts,
      },
      RUNBOOK_LINES.rawUploaded(path),
    );
    if (ahead.written) {
      // The object is confirmed: the write-ahead copy has served. Should this fail, the sweeper's flush finds the
      // identical object once the lease ends and drops the copy then.
      try {
        await timer.time("db", () => repo.dropWriteAhead(conversationId, sha256));
      } catch (err) {
        logger.warn("write_ahead_not_dropped", { conversation_id: conversationId, error: err as Error });
      }
    }
    return { kind: "uploaded", path, databaseDown: ahead.refused };
  }

  // Otherwise whether a retried write-ahead committed decides whether the bytes are already durable.
  await ahead.settled;
  logger.error("raw_upload_failed", {
    conversation_id: conversationId,
    path,
    attempts: upload.attempts,
    error: upload.message,
  });
  const spool = await spoolRaw(deps, timer, { conversationId, userId, bytes, sha256 }, upload);
  const logged = { conversation_id: conversationId, raw_size: bytes.byteLength, raw_sha256: sha256 };
  if (spool?.kind === "spooled") {
    logger.warn("raw_spooled", logged);
    return { kind: "spooled" };
  }
  if (spool?.kind === "not_generating" && spool.status !== "generation_failed") {
    // The row moved on without us: the storage trigger saw the object, so an upload did land after all.
    logger.info("raw_stored_late", { conversation_id: conversationId, status: spool.status });
    return { kind: "late", path, databaseDown: ahead.refused };
  }
  if (ahead.written) {
    // The spool statement failed, but the write-ahead copy is durable: the flush uploads it when its lease ends.
    logger.warn("raw_spooled", { ...logged, via: "write_ahead" });
    return { kind: "held" };
  }
  logUnsavedBody(conversationId, userId, answer.body, sha256);
  return { kind: "unsaved" };
}

/** The spool statement after a failed upload; null when the database did not take it either (logged). */
async function spoolRaw(
  deps: PersistRawDeps,
  timer: PhaseTimer,
  raw: { conversationId: string; userId: string; bytes: Uint8Array; sha256: string },
  upload: Extract<RawUpload, { ok: false }>,
): Promise<SpoolOutcome | null> {
  try {
    return await timer.time("raw_store", () =>
      deps.repo.spoolRaw({
        conversationId: raw.conversationId,
        userId: raw.userId,
        raw: raw.bytes,
        rawSha256: raw.sha256,
        uploadAttempts: upload.attempts,
        lastError: upload.message.slice(0, 1000),
      }));
  } catch (err) {
    logger.error("raw_spool_failed", { conversation_id: raw.conversationId, error: err as Error });
    return null;
  }
}

/**
 * The last resort when neither Storage nor the database takes the bytes: the function logs are retained by the
 * platform, so the body goes there, split into numbered chunks that reassemble by conversation_id and chunk.
 */
function logUnsavedBody(conversationId: string, userId: string, body: string, sha256: string): void {
  const chunks = Math.max(1, Math.ceil(body.length / LOG_CHUNK_CHARS));
  for (let i = 0; i < chunks; i++) {
    logger.error(
      "raw_response_unsaved",
      {
        conversation_id: conversationId,
        user_id: userId,
        raw_sha256: sha256,
        raw_chars: body.length,
        chunk: i + 1,
        chunks,
        raw_body_chunk: body.slice(i * LOG_CHUNK_CHARS, (i + 1) * LOG_CHUNK_CHARS),
      },
      "Storage and the database are unavailable: the raw response is kept in these log entries",
    );
  }
}
