/**
 * Step 6 of the parse chain: truncation is never success. Decides whether a response was cut short and, if so,
 * keeps only what was complete.
 *
 * Signals, from the outside in (what upstream saw, docs/PARSING.md):
 * - `stop_reason` other than end_turn, stop_sequence or tool_use (max_tokens cut the JSON at 2048 tokens);
 * - the JSON document ended before it closed (shared/parse/repair.ts cut it back);
 * - valid JSON whose content was cut: a turn ends in a dangling escaped quote (`…the fear of making the \\"`),
 *   the last turn's content ends at an opening quote or bracket (`…the fund is "`), or the conversation, in
 *   order so far, ends with a user turn (the final assistant turn is missing).
 * Only these signals count: upstream's "long unclosed string" heuristic flagged every long turn (BUG-1).
 *
 * called by: shared/parse/chain.ts.
 */
import { isRecord } from "./_is_record.ts";
import type { Fix, TruncationCode } from "./result.ts";
import type { ConversationMetadata, PartialConversation, Turn } from "./schema.ts";
import { ConversationMetadataSchema, TurnSchema } from "./schema.ts";

/** Stop reasons of a finished response. `refusal` is finished too, but fails on its own. */
const COMPLETE_STOP_REASONS = new Set(["end_turn", "stop_sequence", "tool_use", "refusal"]);

/**
 * True when `stop_reason` says the output may be cut: max_tokens, model_context_window_exceeded, pause_turn, any
 * value we do not know, or none at all (a message assembled from a stream that never finished).
 */
export function stopReasonTruncates(stopReason: string | null): boolean {
  return stopReason === null || !COMPLETE_STOP_REASONS.has(stopReason);
}

/**
 * Content ending in a backslash, optionally followed by a quote: the model was writing an escaped quote when the
 * turn stopped. In the raw JSON this is `\\"` closing the string.
 */
export function hasDanglingEscape(content: string): boolean {
  let i = content.length - 1;
  while (i >= 0 && /\s/.test(content[i])) i--;
  if (content[i] === '"') i--;
  return content[i] === "\\";
}

/** Characters that open something a text then has to close: at the very end of a content, it was cut. */
const OPENERS = new Set(["(", "[", "{", "\u201c", "\u2018"]);

/**
 * Content that ends at an opening quotation mark, bracket or parenthesis: `… the fund is "` (a quote after a
 * space), `… see (`, `… called “`. The JSON around it can be complete and valid while the text was cut: the model
 * stopped right after opening something. A closing quote (`He said "no."`, `the "snowball"`) is content and
 * does not count: an ASCII quote opens only when whitespace (or nothing) precedes it.
 */
export function endsAtOpening(content: string): boolean {
  let i = content.length - 1;
  while (i >= 0 && /\s/.test(content[i])) i--;
  if (i < 0) return false;
  const last = content[i];
  if (OPENERS.has(last)) return true;
  if (last !== '"' && last !== "'") return false;
  return i === 0 || /\s/.test(content[i - 1]);
}

export interface TruncationSignal {
  readonly code: TruncationCode;
  readonly message: string;
}

export interface TruncationInput {
  readonly stopReason: string | null;
  /** The text ended inside the document; the repair step cut it back and closed it. */
  readonly unclosed: boolean;
  /** The parsed (and coerced) value. */
  readonly value: unknown;
}

function describeStopReason(stopReason: string | null): string {
  if (stopReason === null) return "the response has no stop_reason";
  // stop_reason is an API enum; anything else is shown generically so no stored text reaches the message.
  return /^[a-z_]{1,40}$/.test(stopReason)
    ? `output stopped at ${stopReason}`
    : "output stopped for an unknown reason";
}

function firstDanglingTurn(turns: readonly unknown[]): number {
  return turns.findIndex((turn) =>
    isRecord(turn) && typeof turn.content === "string" && hasDanglingEscape(turn.content)
  );
}

/** The first truncation signal, outermost first, or null when nothing suggests the response was cut. */
export function detectTruncation(input: TruncationInput): TruncationSignal | null {
  if (stopReasonTruncates(input.stopReason)) {
    return {
      code: "truncated_output",
      message: `Cannot accept conversation: ${describeStopReason(input.stopReason)}`,
    };
  }
  if (input.unclosed) {
    return {
      code: "truncated_json",
      message: "Cannot accept conversation: the JSON ended before the document closed",
    };
  }
  const turns = isRecord(input.value) && Array.isArray(input.value.turns) ? input.value.turns : [];
  const dangling = firstDanglingTurn(turns);
  if (dangling >= 0) {
    return {
      code: "truncated_turn",
      message: `Cannot accept conversation: turns[${dangling}].content ends in a dangling escaped quote`,
    };
  }
  const last = turns[turns.length - 1];
  if (isRecord(last) && typeof last.content === "string" && endsAtOpening(last.content)) {
    return {
      code: "truncated_content",
      message: `Cannot accept conversation: turns[${
        turns.length - 1
      }].content ends at an opening quote or bracket`,
    };
  }
  // A user turn last, in an otherwise well-ordered conversation: the model stopped before answering. With the
  // roles out of order from the start it is a schema problem, not a truncation.
  const inOrder = turns.every((turn, index) =>
    isRecord(turn) && turn.role === (index % 2 === 0 ? "user" : "assistant")
  );
  if (inOrder && turns.length % 2 === 1) {
    return {
      code: "missing_final_turn",
      message: "Cannot accept conversation: the last turn is a user turn",
    };
  }
  return null;
}

/**
 * What a truncated response still holds: the metadata if it validates, and the turns from turn 1 up to the first
 * one that is invalid, out of sequence or cut (dangling escape). Nothing is completed or invented; a gap ends the
 * run, because turns after a cut are not a coherent conversation.
 */
export function salvageConversation(
  value: unknown,
): { readonly conversation: PartialConversation | null; readonly fixes: readonly Fix[] } {
  if (!isRecord(value)) return { conversation: null, fixes: [] };
  const metadata = ConversationMetadataSchema.safeParse(value.conversation_metadata);
  const source: readonly unknown[] = Array.isArray(value.turns) ? value.turns : [];
  const turns: Turn[] = [];
  for (const candidate of source) {
    const turn = TurnSchema.safeParse(candidate);
    if (!turn.success) break;
    const index = turns.length;
    const role = index % 2 === 0 ? "user" : "assistant";
    if (
      turn.data.turn_number !== index + 1 || turn.data.role !== role ||
      hasDanglingEscape(turn.data.content) ||
      (candidate === source[source.length - 1] && endsAtOpening(turn.data.content))
    ) break;
    turns.push(turn.data);
  }
  const fixes: Fix[] = turns.length < source.length
    ? [{ step: "truncation", code: "drop_turns", detail: `kept ${turns.length} of ${source.length} turns` }]
    : [];
  const conversationMetadata: ConversationMetadata | null = metadata.success ? metadata.data : null;
  if (conversationMetadata === null && turns.length === 0) return { conversation: null, fixes };
  return { conversation: { conversation_metadata: conversationMetadata, turns }, fixes };
}
