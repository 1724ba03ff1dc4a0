/**
 * One conversation through the parse step: claim → download → verify sha256 → parse → final file → finish.
 *
 * called by: shared/parse_flow/handle_parse_conversation.ts (woken by the trigger on_raw_object_stored, the
 * sweeper private.sweep_conversations, the review queue); next: shared/parse/mod.ts (the parse engine), then the
 * SQL functions behind ParseQueue (supabase/migrations/20251119000100_create_parse_claim_functions.sql).
 *
 * Two kinds of failure, handled differently (DESIGN §4.3):
 * - content failures (the bytes are not a usable conversation, or are not the bytes Claude sent) go to review at
 *   once: running the same parser on the same bytes again cannot help;
 * - infrastructure failures (Storage or the database unavailable, the final upload failing, a bug that threw)
 *   release the claim with backoff; the SQL side sends the item to review only after many in a row.
 * Never throws: every path ends in a result value, logged with the conversation id.
 */
import type { Clock } from "../pipeline/clock.ts";
import { errorPattern, type ParseMethod, type ParseResult } from "../parse/mod.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { sha256Hex } from "../pipeline/sha256.ts";
import {
  type ContentFailureCode,
  GAVE_UP_CODE,
  infraCodeOf,
  InfraFailure,
  type InfraFailureCode,
} from "../pipeline/failures.ts";
import { logger, RUNBOOK_LINES } from "../log.ts";
import { writeFinalFile } from "./final_file.ts";
import type { ClaimedConversation, ParseQueue, ParseTrigger } from "./parse_queue.ts";

export interface ParseFlowDeps {
  readonly queue: ParseQueue;
  readonly store: ObjectStore;
  /** The parse engine (`parseStoredResponse`): pure, never throws. */
  readonly parse: (raw: Uint8Array) => ParseResult;
  readonly parserVersion: string;
  /** Wall time for the claim, the lease and the attempts log; monotonic time for durations and budgets. */
  readonly clock: Clock;
}

export type ParseItemResult =
  | {
    conversation_id: string;
    result: "completed";
    attempt: number;
    method: ParseMethod;
    turn_count: number;
    file_path: string;
  }
  | {
    conversation_id: string;
    result: "parse_failed";
    attempt: number;
    outcome: "partial" | "failed" | "gave_up";
    error_code: ContentFailureCode | typeof GAVE_UP_CODE;
  }
  | {
    conversation_id: string;
    result: "released";
    attempt: number;
    error_code: InfraFailureCode;
    next_attempt_at: string;
  }
  | {
    conversation_id: string;
    result: "skipped";
    /** `deferred`: the request's time budget was spent before this id started; it was not claimed. */
    reason: "not_claimable" | "lost_claim" | "deferred";
    /** The row's status when it was not claimable (null: no such conversation). */
    status?: string | null;
  }
  /** The database could not be reached to claim or release: nothing changed; the sweeper retries later. */
  | { conversation_id: string; result: "error"; error_code: InfraFailureCode };

interface ContentFailure {
  readonly outcome: "partial" | "failed";
  readonly method: ParseMethod | null;
  readonly code: ContentFailureCode;
  readonly message: string;
  readonly truncated: boolean;
  readonly partial: unknown | null;
  readonly stopReason: string | null;
  readonly fixes: readonly unknown[];
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One conversation, claimed and parsed. Never throws. Answers `skipped` (not claimable, or the claim was lost
 * to another worker), `completed`, `parse_failed` (content failures: the raw object is missing, its sha256
 * differs from the recorded one, or the engine found no complete conversation — straight to review), `released`
 * (storage_unavailable, database_unavailable, final_upload_failed or internal: the claim is released with
 * backoff; after too many in a row the database gives up and the answer is `parse_failed`/`gave_up`) or
 * `error`/`database_unavailable` when the database cannot be reached to claim or release.
 */
export async function parseConversation(
  deps: ParseFlowDeps,
  conversationId: string,
  triggeredBy: ParseTrigger,
): Promise<ParseItemResult> {
  const started = deps.clock.monotonic();
  const ctx = { conversation_id: conversationId, triggered_by: triggeredBy };
  let claimed: ClaimedConversation;
  try {
    const claim = await deps.queue.claim(conversationId, deps.clock.now());
    if (claim.claimed === null) {
      logger.debug("parse_skipped", { ...ctx, status: claim.status });
      return {
        conversation_id: conversationId,
        result: "skipped",
        reason: "not_claimable",
        status: claim.status,
      };
    }
    claimed = claim.claimed;
  } catch (err) {
    logger.error("parse_claim_failed", { ...ctx, error: describe(err) });
    return { conversation_id: conversationId, result: "error", error_code: "database_unavailable" };
  }

  const attempt = claimed.attempt;
  const log = { ...ctx, attempt };
  logger.info("parse_started", log, RUNBOOK_LINES.parsing);
  const elapsed = () => Math.round((deps.clock.monotonic() - started) * 1000) / 1000;

  try {
    const download = await deps.store.download(claimed.rawPath);
    if (!download.ok) {
      if (download.kind === "unavailable") {
        throw new InfraFailure("storage_unavailable", `Cannot download the raw object: ${download.message}`);
      }
      // The trigger marks raw_stored in the object row's own transaction, so a missing object was deleted
      // afterwards: a person has to look (raw_orphans reports it too).
      const missing = contentFailure(
        "raw_object_missing",
        `Cannot download the raw object ${claimed.rawPath}: it does not exist`,
      );
      return await fail(deps, claimed, missing, null, triggeredBy, elapsed);
    }
    const computedSha = await sha256Hex(download.bytes);
    if (claimed.rawSha256 !== null && computedSha !== claimed.rawSha256.toLowerCase()) {
      // The hashes go to the log only: the row's message stays one stable group for the error-pattern report.
      logger.warn("raw_sha256_mismatch", { ...log, expected: claimed.rawSha256, actual: computedSha });
      const tampered = contentFailure(
        "raw_sha256_mismatch",
        "Cannot trust the raw object: its sha256 differs from the one recorded at generation",
      );
      return await fail(deps, claimed, tampered, null, triggeredBy, elapsed);
    }
    const result = deps.parse(download.bytes);
    if (result.outcome === "parsed") {
      return await complete(deps, claimed, result, computedSha, triggeredBy, elapsed);
    }
    const unusable: ContentFailure = {
      outcome: result.outcome,
      method: result.method,
      code: result.error.code,
      message: result.error.message,
      truncated: result.truncated,
      partial: result.outcome === "partial" ? result.conversation : null,
      stopReason: result.stopReason,
      fixes: result.fixes,
    };
    return await fail(deps, claimed, unusable, computedSha, triggeredBy, elapsed);
  } catch (err) {
    // InfraFailure is thrown here and by the adapters (a database outage is translated at their edge).
    const code = infraCodeOf(err);
    if (code === "internal") logger.error("parse_internal_error", { ...log, error: describe(err) });
    return await release(deps, claimed, code, describe(err), triggeredBy, elapsed);
  }
}

function contentFailure(code: ContentFailureCode, message: string): ContentFailure {
  return {
    outcome: "failed",
    method: null,
    code,
    message,
    truncated: false,
    partial: null,
    stopReason: null,
    fixes: [],
  };
}

async function complete(
  deps: ParseFlowDeps,
  claimed: ClaimedConversation,
  result: Extract<ParseResult, { outcome: "parsed" }>,
  computedSha: string | null,
  triggeredBy: ParseTrigger,
  elapsed: () => number,
): Promise<ParseItemResult> {
  const written = await writeFinalFile(deps.store, claimed, result.conversation);
  if (!written.ok) {
    throw new InfraFailure(
      "final_upload_failed",
      `Cannot upload the final file ${written.path}: ${written.detail}`,
    );
  }
  const { final, path } = written;
  const finished = await deps.queue.finishCompleted({
    conversationId: claimed.conversationId,
    attempt: claimed.attempt,
    now: deps.clock.now(),
    parserVersion: result.parserVersion,
    stopReason: result.stopReason,
    computedSha256: computedSha,
    fixes: result.fixes,
    durationMs: elapsed(),
    triggeredBy,
    method: result.method,
    turnCount: result.conversation.turns.length,
    filePath: path,
    fileSize: final.bytes.byteLength,
    conversationName: final.conversationName,
  });
  const log = {
    conversation_id: claimed.conversationId,
    attempt: claimed.attempt,
    triggered_by: triggeredBy,
  };
  if (!finished) {
    logger.warn("parse_lost_claim", log, "claim taken over before the result was written; result dropped");
    return { conversation_id: claimed.conversationId, result: "skipped", reason: "lost_claim" };
  }
  logger.info(
    "parse_succeeded",
    {
      ...log,
      method: result.method,
      turn_count: result.conversation.turns.length,
      file_path: path,
      persona_source: final.personaSource,
      duration_ms: elapsed(),
    },
    RUNBOOK_LINES.parseSucceeded(result.method),
  );
  return {
    conversation_id: claimed.conversationId,
    result: "completed",
    attempt: claimed.attempt,
    method: result.method,
    turn_count: result.conversation.turns.length,
    file_path: path,
  };
}

async function fail(
  deps: ParseFlowDeps,
  claimed: ClaimedConversation,
  failure: ContentFailure,
  computedSha: string | null,
  triggeredBy: ParseTrigger,
  elapsed: () => number,
): Promise<ParseItemResult> {
  const finished = await deps.queue.finishFailed({
    conversationId: claimed.conversationId,
    attempt: claimed.attempt,
    now: deps.clock.now(),
    parserVersion: deps.parserVersion,
    stopReason: failure.stopReason,
    computedSha256: computedSha,
    fixes: failure.fixes,
    durationMs: elapsed(),
    triggeredBy,
    outcome: failure.outcome,
    method: failure.method,
    errorCode: failure.code,
    errorMessage: failure.message,
    truncated: failure.truncated,
    partialConversation: failure.partial,
  });
  const log = {
    conversation_id: claimed.conversationId,
    attempt: claimed.attempt,
    triggered_by: triggeredBy,
  };
  if (!finished) {
    logger.warn("parse_lost_claim", log, "claim taken over before the result was written; result dropped");
    return { conversation_id: claimed.conversationId, result: "skipped", reason: "lost_claim" };
  }
  logger.warn("parse_failed", {
    ...log,
    outcome: failure.outcome,
    error_code: failure.code,
    error_pattern: errorPattern(failure.message),
    truncated: failure.truncated,
    duration_ms: elapsed(),
  }, "[parseAndStoreFinal] ❌ Parse failed: sent to manual review");
  return {
    conversation_id: claimed.conversationId,
    result: "parse_failed",
    attempt: claimed.attempt,
    outcome: failure.outcome,
    error_code: failure.code,
  };
}

async function release(
  deps: ParseFlowDeps,
  claimed: ClaimedConversation,
  code: InfraFailureCode,
  message: string,
  triggeredBy: ParseTrigger,
  elapsed: () => number,
): Promise<ParseItemResult> {
  const log = {
    conversation_id: claimed.conversationId,
    attempt: claimed.attempt,
    triggered_by: triggeredBy,
  };
  try {
    const released = await deps.queue.release({
      conversationId: claimed.conversationId,
      attempt: claimed.attempt,
      now: deps.clock.now(),
      parserVersion: deps.parserVersion,
      errorCode: code,
      errorMessage: message,
      durationMs: elapsed(),
      triggeredBy,
    });
    switch (released.outcome) {
      case "released":
        logger.warn("parse_released", {
          ...log,
          error_code: code,
          error: message,
          next_attempt_at: released.nextAttemptAt.toISOString(),
          consecutive_failures: released.consecutiveFailures,
        });
        return {
          conversation_id: claimed.conversationId,
          result: "released",
          attempt: claimed.attempt,
          error_code: code,
          next_attempt_at: released.nextAttemptAt.toISOString(),
        };
      case "gave_up":
        logger.error("parse_gave_up", {
          ...log,
          error_code: code,
          error: message,
          consecutive_failures: released.consecutiveFailures,
        }, "[parseAndStoreFinal] ❌ Too many infrastructure failures in a row: sent to manual review");
        return {
          conversation_id: claimed.conversationId,
          result: "parse_failed",
          attempt: claimed.attempt,
          outcome: "gave_up",
          error_code: GAVE_UP_CODE,
        };
      case "lost_claim":
        logger.warn("parse_lost_claim", log, "claim taken over before the release was written");
        return { conversation_id: claimed.conversationId, result: "skipped", reason: "lost_claim" };
    }
  } catch (err) {
    // The claim stays until its lease ends; the sweeper then hands the row to another attempt.
    logger.error("parse_release_failed", { ...log, error_code: code, error: describe(err) });
    return { conversation_id: claimed.conversationId, result: "error", error_code: "database_unavailable" };
  }
}
