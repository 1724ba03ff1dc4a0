/**
 * The one list of error codes this project returns over HTTP, each with its status.
 * Call sites pick a code, never a status: `appError("not_found", "...")`.
 * Add codes here (keep the list sorted by status, then name) rather than inventing statuses elsewhere.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_body: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  not_in_review: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  upstream_failed: 502,
  upstream_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A failure with a stable code; the HTTP layer maps it with `ERROR_STATUS`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** The way call sites raise an HTTP-facing failure: a code from `ERROR_STATUS`, a message, optional details. */
export function appError(code: ErrorCode, message: string, details?: Record<string, unknown>): AppError {
  return new AppError(code, message, details);
}
