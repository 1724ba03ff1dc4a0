/**
 * `POST /review-queue/{id}/dismiss`: take an item out of the queue without a conversation, with a reason a
 * later reader can act on ("duplicate of …", "test data"). The raw response stays in Storage: dismissing is
 * a decision about the queue, not about the data (retention is a separate policy).
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { hasNoNul, NO_NUL_MESSAGE } from "../http/pg_text.ts";
import { describeZodError } from "../http/respond.ts";

export const MAX_REASON_LENGTH = 500;

export interface DismissRequest {
  readonly reason: string;
  readonly reviewedBy: string | null;
}

const schema = z.strictObject({
  reason: z.string().trim().min(1, "must not be empty").max(MAX_REASON_LENGTH).refine(
    hasNoNul,
    NO_NUL_MESSAGE,
  ),
  reviewed_by: z.uuid().optional(),
});

/**
 * The dismiss body, validated: `reason` trimmed, 1..500 characters, no U+0000; optional `reviewed_by` a uuid
 * (lower-cased); no other field. Anything else throws `invalid_body`. Whether the caller may name that
 * reviewer is the handler's decision, not this function's.
 */
export function parseDismissRequest(body: unknown): DismissRequest {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw appError("invalid_body", `Cannot dismiss: ${describeZodError(parsed.error)}`);
  return { reason: parsed.data.reason, reviewedBy: parsed.data.reviewed_by?.toLowerCase() ?? null };
}
