/**
 * The database side of the parse flow, as one interface: the work queue is the `conversations` table and every
 * state change is one SQL function in schema `private` (supabase/migrations/20251119000100_create_parse_claim_functions.sql).
 * The real implementation is shared/adapters/postgres_parse_queue.ts; tests use an in-memory fake.
 *
 * Fencing: a claim bumps `parse_attempts`; that number is the claim's token. Every finishing call names it and
 * only applies while the row is still `parsing` with the same attempt number, so a worker whose lease expired
 * and was taken over cannot overwrite the newer attempt (it gets `false` / `null` back: a no-op, not an error).
 */
import type { ParseMethod } from "../parse/mod.ts";
import type { ConversationSource } from "../provenance.ts";

/** Who asked for the parse; stored in `conversation_parse_attempts.triggered_by`. */
export type ParseTrigger = "trigger" | "sweeper" | "review" | "retry_all" | "manual";

/** The scaffolding rows the final file's `input_parameters` come from (null for an orphaned raw object). */
export interface Scaffolding {
  readonly personaId: string | null;
  readonly personaKey: string | null;
  readonly personaName: string | null;
  readonly personaArchetype: string | null;
  readonly emotionalArcId: string | null;
  readonly emotionalArcKey: string | null;
  readonly emotionalArcName: string | null;
  readonly trainingTopicId: string | null;
  readonly trainingTopicKey: string | null;
  readonly trainingTopicName: string | null;
  /** The row's provenance (conversations.source), written into the final file; absent where unknown. */
  readonly source?: ConversationSource;
}

/** A row this worker now owns until `claimedUntil`. */
export interface ClaimedConversation {
  readonly conversationId: string;
  readonly userId: string;
  /** The fencing token: `parse_attempts` after this claim. */
  readonly attempt: number;
  readonly rawPath: string;
  /** Hex sha256 recorded at generation; null when the database was unreachable then (or for an orphan). */
  readonly rawSha256: string | null;
  readonly claimedUntil: Date;
  readonly scaffolding: Scaffolding;
}

export type ClaimResult =
  | { readonly claimed: ClaimedConversation }
  /** Not claimable now: another worker holds it, it is finished, not yet due, or unknown (status null). */
  | { readonly claimed: null; readonly status: string | null };

interface FinishBase {
  readonly conversationId: string;
  readonly attempt: number;
  readonly now: Date;
  readonly parserVersion: string;
  readonly stopReason: string | null;
  /** The sha256 computed from the downloaded bytes; recorded only where the row has none. */
  readonly computedSha256: string | null;
  readonly fixes: readonly unknown[];
  readonly durationMs: number;
  readonly triggeredBy: ParseTrigger;
}

export interface FinishCompleted extends FinishBase {
  readonly method: ParseMethod;
  readonly turnCount: number;
  readonly filePath: string;
  readonly fileSize: number;
  readonly conversationName: string;
}

export interface FinishFailed extends FinishBase {
  readonly outcome: "partial" | "failed";
  readonly method: ParseMethod | null;
  /** Stable snake_case code; the row's `parse_error_message` becomes `<code>: <message>`. */
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly truncated: boolean;
  /** What a truncated response held, kept in the attempts log for the reviewer (never as the final file). */
  readonly partialConversation: unknown | null;
}

export interface ReleaseClaim {
  readonly conversationId: string;
  readonly attempt: number;
  readonly now: Date;
  readonly parserVersion: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly durationMs: number;
  readonly triggeredBy: ParseTrigger;
}

export type ReleaseResult =
  /** Back to `raw_stored`, due again at `nextAttemptAt`. */
  | { readonly outcome: "released"; readonly nextAttemptAt: Date; readonly consecutiveFailures: number }
  /** Too many infrastructure failures in a row: sent to review so nothing loops forever. */
  | { readonly outcome: "gave_up"; readonly consecutiveFailures: number }
  /** The claim was lost (taken over or re-uploaded): nothing written. */
  | { readonly outcome: "lost_claim" };

/** A spooled raw response, leased for upload (see `leaseSpool`). */
export interface SpooledRaw {
  readonly conversationId: string;
  readonly userId: string;
  readonly raw: Uint8Array;
  readonly rawSha256: string;
  readonly contentType: string;
  readonly uploadAttempts: number;
}

export interface ParseQueue {
  claim(conversationId: string, now: Date): Promise<ClaimResult>;
  /** Row → `completed` + an attempts-log row, in one transaction. False when the claim was lost. */
  finishCompleted(input: FinishCompleted): Promise<boolean>;
  /** Row → `parse_failed` (review) + an attempts-log row with the partial result, in one transaction. */
  finishFailed(input: FinishFailed): Promise<boolean>;
  /** Infrastructure error: back to `raw_stored` with backoff (or to review after too many in a row). */
  release(input: ReleaseClaim): Promise<ReleaseResult>;
  /** Leases up to `limit` due spool rows (they are not handed to another flush until the lease ends). */
  leaseSpool(now: Date, limit: number): Promise<SpooledRaw[]>;
  /** Deletes the spool row once its bytes are in Storage (guarded by the sha256). */
  finishSpool(conversationId: string, rawSha256: string): Promise<boolean>;
  /** Records an upload failure; the row is due again after a backoff. */
  deferSpool(conversationId: string, now: Date, error: string): Promise<void>;
}
