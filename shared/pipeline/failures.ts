/**
 * The pipeline's failure codes: two closed lists, one per kind of failure (DESIGN §4.3), next to the parse
 * engine's own `PARSE_ERROR_CODES` (shared/parse/result.ts).
 *
 * - A content failure means the bytes are not a usable conversation, or are not the bytes Claude sent: the row
 *   goes to review at once (running the same parser on the same bytes cannot help). Its code is a parse error
 *   code or one of `PIPELINE_CONTENT_CODES`.
 * - An infrastructure failure means something outside the bytes failed (Storage, the database, a bug that
 *   threw): the claim is released with backoff and SQL sends the row to review only after many in a row.
 *
 * Adapters translate their own failures (SQLSTATE, HTTP status, SDK error) into `InfraFailure` at their edge
 * (shared/adapters/postgres_sql.ts `translatePostgresFailure`), so no domain file ever looks at a SQLSTATE. The
 * codes are stored in `conversation_parse_attempts.error_code` and the row's `parse_error_message`: renaming one
 * is a data migration, adding one is not.
 */
import type { ParseErrorCode } from "../parse/result.ts";

/** Content failures the flow itself detects (the parse engine's come from `PARSE_ERROR_CODES`). */
export const PIPELINE_CONTENT_CODES = {
  raw_object_missing: "The raw object was deleted after it was stored: a person has to look",
  raw_sha256_mismatch: "The raw object's sha256 differs from the one recorded at generation",
} as const;

export type PipelineContentCode = keyof typeof PIPELINE_CONTENT_CODES;

/** Every code a content failure can carry. */
export type ContentFailureCode = ParseErrorCode | PipelineContentCode;

/** Infrastructure failures: the claim is released and the row is tried again later. */
export const INFRA_FAILURE_CODES = {
  database_unavailable: "The database could not be reached, timed out or aborted the transaction",
  storage_unavailable: "Storage could not be reached or refused the service key",
  final_upload_failed: "Storage did not accept the final file",
  internal: "A bug threw inside the flow (the raw response is intact)",
} as const;

export type InfraFailureCode = keyof typeof INFRA_FAILURE_CODES;

/** The code a row gets when SQL gave up after too many infrastructure failures in a row. */
export const GAVE_UP_CODE = "parse_gave_up";

/**
 * A failure that must release the claim (or, before any claim, leave everything as it was). Thrown by adapters
 * at their edge and by the flow itself; caught by the flow, never by the HTTP layer.
 */
export class InfraFailure extends Error {
  override readonly name = "InfraFailure";
  constructor(readonly code: InfraFailureCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when trying again later can help: the database or Storage was unavailable (not a bug, not a rule). */
export function isUnavailable(err: unknown): err is InfraFailure {
  return err instanceof InfraFailure &&
    (err.code === "database_unavailable" || err.code === "storage_unavailable");
}

/** The infrastructure code for anything thrown inside a flow: its own code, or `internal` for a bug. */
export function infraCodeOf(err: unknown): InfraFailureCode {
  return err instanceof InfraFailure ? err.code : "internal";
}
