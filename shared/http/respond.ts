/**
 * The one mapper from errors to HTTP: `{ "error": { "code", "message" } }` with the code's status.
 * Known errors keep their code; zod errors become 400 `invalid_body` with field-level messages; anything
 * else is 500 `internal` with the details in the log only — never a stack trace to a client.
 */
import { z } from "zod";
import { AppError, ERROR_STATUS } from "../errors.ts";
import { logger } from "../log.ts";

export const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" } as const;

/** A JSON response with the charset set: the one way handlers answer, so every body has the same headers. */
export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  h.set("content-type", JSON_HEADERS["content-type"]);
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** "turns.0.role: Invalid option" style messages, one per issue, stable enough to assert on. */
export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 10)
    .map((i) => `${i.path.length > 0 ? i.path.join(".") : "(body)"}: ${i.message}`)
    .join("; ");
}

/**
 * The one error → HTTP mapper: an `AppError` keeps its code and status (plus `Allow` / `Retry-After` where they
 * apply), a ZodError is 400 `invalid_body`, anything else is 500 `internal` with the details in the log only.
 */
export function errorResponse(err: unknown, context: Record<string, unknown> = {}): Response {
  if (err instanceof AppError) {
    const body: Record<string, unknown> = { code: err.code, message: err.message };
    if (err.details) Object.assign(body, err.details);
    const headers: Record<string, string> = {};
    if (err.code === "method_not_allowed" && typeof err.details?.allow === "string") {
      headers.allow = err.details.allow;
    }
    if (err.code === "rate_limited" && typeof err.details?.retry_after_seconds === "number") {
      headers["retry-after"] = String(err.details.retry_after_seconds);
    }
    return json({ error: body }, ERROR_STATUS[err.code], headers);
  }
  if (err instanceof z.ZodError) {
    return json({ error: { code: "invalid_body", message: describeZodError(err) } }, 400);
  }
  logger.error("unhandled_error", {
    ...context,
    error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err),
  });
  return json({ error: { code: "internal", message: "Cannot complete the request: internal error" } }, 500);
}
