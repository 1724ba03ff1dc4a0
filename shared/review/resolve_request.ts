/**
 * `POST /review-queue/{id}/resolve`: a reviewer's corrected conversation. It is held to the same zod schema as
 * the parse engine's output (shared/parse/schema.ts), after the same small coercions (numeric strings in numeric
 * fields, null optional fields), so a manual result cannot be something the parser would have rejected.
 * Every schema problem is reported with its path (`conversation.turns[3].role`), not only the first one: the
 * reviewer fixes them all in one round.
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { hasNoNul, NO_NUL_MESSAGE } from "../http/pg_text.ts";
import { describeZodError } from "../http/respond.ts";
import { coerceConversation, type Conversation, ConversationSchema } from "../parse/mod.ts";

export const MAX_NOTES_LENGTH = 2000;
/** A conversation is a few KB to a few hundred KB; the raw bucket's own limit is 10 MB. */
export const MAX_RESOLVE_BODY_BYTES = 2 * 1024 * 1024;
const MAX_REPORTED_ISSUES = 50;

export interface ResolveRequest {
  readonly conversation: Conversation;
  readonly notes: string | null;
  /** Service role only: the operator the service acts for; users are recorded as themselves. */
  readonly reviewedBy: string | null;
}

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

const envelopeSchema = z.strictObject({
  conversation: z.unknown().refine((v) => v !== undefined, "is missing"),
  notes: z.string().trim().max(MAX_NOTES_LENGTH).refine(hasNoNul, NO_NUL_MESSAGE).optional(),
  reviewed_by: z.uuid().optional(),
});

/** `["turns", 2, "role"]` under `conversation` -> `conversation.turns[2].role`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let text = "conversation";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  return text;
}

/**
 * The resolve body, validated: `{conversation, notes?, reviewed_by?}` and nothing else; the conversation is
 * coerced as the parse engine coerces (numeric strings, null optionals), then held to `ConversationSchema`.
 * Throws `invalid_body`; for a schema failure the error's details list up to 50 issues with their paths
 * (`conversation.turns[2].role`). Empty notes become null.
 */
export function parseResolveRequest(body: unknown): ResolveRequest {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw appError("invalid_body", `Cannot resolve: ${describeZodError(envelope.error)}`);
  }
  const { value } = coerceConversation(envelope.data.conversation);
  const parsed = ConversationSchema.safeParse(value);
  if (!parsed.success) {
    const issues: FieldIssue[] = parsed.error.issues.slice(0, MAX_REPORTED_ISSUES).map((issue) => ({
      path: fieldPath(issue.path),
      message: issue.message,
    }));
    const first = issues[0];
    throw appError(
      "invalid_body",
      `Cannot resolve: the conversation does not match the schema (${parsed.error.issues.length} problem${
        parsed.error.issues.length === 1 ? "" : "s"
      }; first: ${first.path}: ${first.message})`,
      { issues },
    );
  }
  const notes = envelope.data.notes;
  return {
    conversation: parsed.data,
    notes: notes === undefined || notes === "" ? null : notes,
    reviewedBy: envelope.data.reviewed_by?.toLowerCase() ?? null,
  };
}
