/**
 * The review queue's view of the database, as one interface: the real implementation is
 * shared/adapters/postgres_review_repo.ts (SQL over `conversations` and `conversation_parse_attempts`, state changes
 * through the `private.*` functions of supabase/migrations/20251121000000_create_review_functions.sql);
 * unit tests use an in-memory fake.
 *
 * Every read and write takes the caller's scope: a user only ever reaches rows with their `user_id`, so an item
 * of another user is indistinguishable from one that does not exist (404, never 403).
 */
import type { Scaffolding } from "../parse_flow/parse_queue.ts";
import type { CursorPosition } from "./cursor.ts";
import type { ConversationSource, ListQuery } from "./list_query.ts";

/** `user`: only this user's rows. `service`: every row. */
export type RepoScope = { readonly userId: string } | { readonly userId: null };

/** What happened to an item at its last parse attempt (from `conversation_parse_attempts`). */
export interface AttemptSummary {
  readonly attempt_number: number;
  readonly outcome: "parsed" | "partial" | "failed" | "error";
  readonly method: string | null;
  readonly error_code: string | null;
  readonly parser_version: string;
  readonly triggered_by: string | null;
  readonly created_at: string;
}

/** One row of the list, newest first. */
export interface QueueItem {
  readonly conversation_id: string;
  readonly user_id: string;
  readonly processing_status: string;
  readonly requires_manual_review: boolean;
  /** `parse_failed` and flagged for review: the actionable state (retry, resolve, dismiss answer 409 otherwise). */
  readonly in_review: boolean;
  /** `partial` when the response was truncated (the row's flag or the latest attempt's outcome). */
  readonly kind: "failed" | "partial";
  readonly parse_attempts: number;
  readonly last_parse_attempt_at: string | null;
  readonly parse_error_message: string | null;
  readonly parse_method_used: string | null;
  readonly parser_version: string | null;
  readonly stop_reason: string | null;
  readonly truncated: boolean;
  readonly persona_key: string | null;
  readonly emotional_arc_key: string | null;
  readonly topic_key: string | null;
  readonly tier: string | null;
  /** Provenance, set by the database (conversations.source): model output, a user's upload, … */
  readonly source: ConversationSource;
  readonly raw_response_size: number | null;
  readonly raw_stored_at: string | null;
  readonly created_at: string;
  readonly dismissed_at: string | null;
  readonly dismissed_reason: string | null;
  readonly latest_attempt: AttemptSummary | null;
}

/** A list row plus its keyset position (kept out of the JSON item). */
export interface ListedItem {
  readonly item: QueueItem;
  readonly position: CursorPosition;
}

/** The whole row as the detail view shows it. */
export interface ItemDetail extends QueueItem {
  readonly raw_response_path: string | null;
  readonly raw_sha256: string | null;
  readonly raw_deleted_at: string | null;
  readonly model: string | null;
  readonly input_tokens: number | null;
  readonly output_tokens: number | null;
  readonly file_path: string | null;
  readonly conversation_name: string | null;
  readonly turn_count: number | null;
  readonly reviewed_by: string | null;
  readonly reviewed_at: string | null;
  readonly review_notes: string | null;
  readonly updated_at: string;
}

/** One row of the attempts log, oldest first. */
export interface AttemptRow {
  readonly attempt_number: number;
  readonly parser_version: string;
  readonly method: string | null;
  readonly outcome: "parsed" | "partial" | "failed" | "error";
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly fixes: unknown;
  readonly stop_reason: string | null;
  readonly truncated: boolean;
  readonly duration_ms: number | null;
  readonly triggered_by: string | null;
  readonly created_at: string;
}

export interface PartialResultRow {
  readonly attempt_number: number;
  readonly parser_version: string;
  readonly created_at: string;
  readonly conversation: unknown;
}

export interface ItemBundle {
  readonly item: ItemDetail;
  readonly attempts: readonly AttemptRow[];
  /** The newest attempt that kept a partial conversation, if any. */
  readonly partial: PartialResultRow | null;
}

/**
 * Why a state change did not happen: the row is not the caller's (or does not exist), it is not in review, its
 * raw object is gone (retry only), or the named reviewer is not a user (resolve, dismiss).
 */
export type Refusal = "not_found" | "not_in_review" | "raw_unavailable" | "unknown_reviewer";

/** What the resolve callback needs to write the final file, read under the row lock. */
export interface ResolveTarget {
  readonly conversationId: string;
  readonly userId: string;
  readonly scaffolding: Scaffolding;
}

export interface WrittenFinal {
  readonly filePath: string;
  readonly fileSize: number;
  readonly turnCount: number;
  readonly conversationName: string;
}

export interface ResolveInput {
  readonly reviewedBy: string | null;
  readonly notes: string | null;
  readonly parserVersion: string;
  readonly now: Date;
}

export interface DismissInput {
  readonly reviewedBy: string | null;
  readonly reason: string;
  readonly now: Date;
}

/** Which rows retry-all works on. */
export interface RetryAllFilter {
  /** Re-parse also rows already failed by `currentVersion` (normally skipped: same parser, same bytes). */
  readonly force: boolean;
  readonly currentVersion: string;
  readonly since: Date | null;
  readonly userId: string | null;
}

export interface Candidate {
  readonly conversationId: string;
  readonly position: CursorPosition;
}

/**
 * A candidate as a dry-run preview needs it: where its raw object is, its checksum, and what the last parse
 * decided — so a client can re-run a (newer) parser in memory and compare, without writing anything.
 */
export interface PreviewCandidate extends Candidate {
  readonly rawResponsePath: string;
  readonly rawSha256: string | null;
  readonly parserVersion: string | null;
  readonly processingStatus: string;
  /** The latest attempt's outcome, method and error code (null without an attempt). */
  readonly outcome: string | null;
  readonly method: string | null;
  readonly errorCode: string | null;
}

/** Counts over a set of rows, grouped three ways. */
export interface StatusCounts {
  readonly total: number;
  readonly by_status: Record<string, number>;
  /** `parse_method_used`, `none` when null. */
  readonly by_method: Record<string, number>;
  /** The latest attempt's outcome, `none` when there is no attempt. */
  readonly by_outcome: Record<string, number>;
  /** `parser_version` of the row, `none` when null. */
  readonly by_parser_version: Record<string, number>;
}

export interface ReviewRepo {
  /** At most `query.limit` items after `query.after`; `hasMore` when another page follows. */
  list(query: ListQuery): Promise<{ items: ListedItem[]; total: number; hasMore: boolean }>;
  get(scope: RepoScope, conversationId: string): Promise<ItemBundle | null>;
  /**
   * `parse_failed` (in review) → `raw_stored`, due now, so the parse flow's claim takes it; the review flag
   * stays until the new outcome is written. Null when it moved; the refusal otherwise.
   */
  requeue(scope: RepoScope, conversationId: string, now: Date): Promise<Refusal | null>;
  /**
   * Locks the row (in review, caller's scope), runs `writeFinal` (the final-file upload) while holding the lock,
   * then marks it `completed` / `manual` with an attempts-log row, in one transaction.
   */
  resolve(
    scope: RepoScope,
    conversationId: string,
    input: ResolveInput,
    writeFinal: (target: ResolveTarget) => Promise<WrittenFinal>,
  ): Promise<Refusal | null>;
  dismiss(scope: RepoScope, conversationId: string, input: DismissInput): Promise<Refusal | null>;
  /** Retry-all candidates after `after` with what a dry-run preview needs, same order as `candidates`. */
  previewCandidates(
    filter: RetryAllFilter,
    after: CursorPosition | null,
    limit: number,
  ): Promise<PreviewCandidate[]>;
  /** Retry-all candidates after `after`, oldest first (ascending keyset, so a run makes progress). */
  candidates(filter: RetryAllFilter, after: CursorPosition | null, limit: number): Promise<Candidate[]>;
  countCandidates(filter: RetryAllFilter, after: CursorPosition | null): Promise<StatusCounts>;
  /** The same counts for named rows (before and after a batch). */
  countRows(conversationIds: readonly string[]): Promise<StatusCounts>;
}
