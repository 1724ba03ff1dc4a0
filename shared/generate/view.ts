/**
 * What generate-conversation tells the client about its conversation, built in one place: from the row as
 * PostgreSQL has it, or — when the row cannot be read or is known to lag behind (the database was down, the
 * bytes are held in the write-ahead copy) — from what this worker knows itself. Either way the same fields, the
 * same omissions (a null or false field is left out), and warnings only when there are some.
 *
 * used by: shared/generate/prepare.ts (replays), shared/generate/answer.ts (the new conversation)
 */

/** What the client gets back on success (201) and on an idempotent replay (200). */
export interface ConversationView {
  conversation_id: string;
  processing_status: string;
  raw_response_path: string | null;
  parse_method_used?: string;
  turn_count?: number;
  truncated?: boolean;
  requires_manual_review?: boolean;
  parse_error_message?: string;
  generation_error?: string;
  warnings?: string[];
}

/**
 * The facts a view is built from: a `ConversationState` read from the row fits as it is; what the worker knows
 * without the row gives the first three and `truncated`.
 */
export interface ViewSource {
  conversation_id: string;
  processing_status: string;
  raw_response_path: string | null;
  parse_method_used?: string | null;
  turn_count?: number | null;
  truncated?: boolean;
  requires_manual_review?: boolean;
  parse_error_message?: string | null;
  generation_error?: string | null;
}

/**
 * The one view builder: copies the facts that are set (non-null, true) and the warnings when there are any,
 * so a replay, a fresh answer and a fallback answer can never differ in shape.
 */
export function conversationView(source: ViewSource, warnings: readonly string[] = []): ConversationView {
  const v: ConversationView = {
    conversation_id: source.conversation_id,
    processing_status: source.processing_status,
    raw_response_path: source.raw_response_path,
  };
  if (source.parse_method_used != null) v.parse_method_used = source.parse_method_used;
  if (source.turn_count != null) v.turn_count = source.turn_count;
  if (source.truncated) v.truncated = true;
  if (source.requires_manual_review) v.requires_manual_review = true;
  if (source.parse_error_message != null) v.parse_error_message = source.parse_error_message;
  if (source.generation_error != null) v.generation_error = source.generation_error;
  if (warnings.length > 0) v.warnings = [...warnings];
  return v;
}
