/**
 * The values the parse engine returns: the result of `parseStoredResponse`, the error codes, and the fixes each
 * step reports. Pure types and small constructors; no step logic lives here.
 *
 * used by: every file in shared/parse; callers read `ParseResult` through shared/parse/mod.ts.
 */
import type { Conversation, PartialConversation } from "./schema.ts";

/** Which step produced the JSON value. Matches `conversations.parse_method_used` (which also has `manual`). */
export type ParseMethod = "direct" | "extracted" | "jsonrepair";

/** The steps of the chain, in the order they run; `createParser({ steps })` picks a subset. */
export type ParseStep = "direct" | "extract" | "repair" | "floor";

/**
 * Stable error codes. `error.code` is the key to group by; `error.message` adds the position or schema path.
 * Codes of `failed` results come first, then the truncation codes that `partial` results carry.
 */
export const PARSE_ERROR_CODES = {
  invalid_envelope: "The stored body is not a Messages API response (HTML page, API error object, not UTF-8)",
  refusal: "Claude refused (stop_reason refusal)",
  empty_output: "The response has no text and no tool input",
  no_json: "The text holds no JSON object",
  invalid_json: "JSON was found but no step could parse it",
  schema_invalid: "The JSON is complete but is not a valid conversation",
  internal: "The parser hit an unexpected error (a bug: the raw response is intact)",
  too_large: "The raw object is over the parser's size limit; it was not read (the raw response is intact)",
  too_deep: "The text nests brackets deeper than the parser reads (a conversation nests 4 deep)",
  truncated_output: "stop_reason says the output was cut (max_tokens, context window, pause) or is missing",
  truncated_json: "The JSON document ended before it was closed",
  truncated_turn: "A turn's content ends in a dangling escaped quote",
  truncated_content:
    "The last turn's content ends at an opening quote or bracket: the text was cut, the JSON is valid",
  missing_final_turn: "The conversation ends with a user turn: the final assistant turn is missing",
} as const;

export type ParseErrorCode = keyof typeof PARSE_ERROR_CODES;

/** Codes of a `partial` outcome: each names one truncation signal. */
export type TruncationCode =
  | "truncated_output"
  | "truncated_json"
  | "truncated_turn"
  | "truncated_content"
  | "missing_final_turn";

export interface ParseError {
  readonly code: ParseErrorCode;
  /** Short and free of model output: the cause, then a position or schema path. */
  readonly message: string;
}

/** Where a fix was made. */
export type FixStep = "envelope" | "extract" | "repair" | "validate" | "truncation";

/** What was done; `detail` says where (a path or position) or how much. */
export type FixCode =
  /** envelope: several text blocks were concatenated. */
  | "join_text_blocks"
  /** envelope: the conversation came from a tool_use block's `input`. */
  | "use_tool_input"
  /** extract: a byte order mark before the JSON was removed. */
  | "strip_bom"
  /** extract: zero-width characters outside string values were removed. */
  | "strip_zero_width"
  /** extract: JS-style comments (`// …`, `/* … *\/`) outside string values were removed (detail: how many). */
  | "strip_comments"
  /** extract: typographic (“ ” ‘ ’) or single quotes used as string delimiters were read as `"` (detail: how many). */
  | "normalize_quotes"
  /** extract: a markdown code fence around the JSON was removed. */
  | "strip_fence"
  /** extract: prose before the JSON was removed. */
  | "strip_prose_before"
  /** extract: prose after the JSON was removed. */
  | "strip_prose_after"
  /** extract: the text was a JSON string holding the document; one level was decoded. */
  | "decode_string"
  /**
   * repair: quotes inside string values that the model left unescaped got a backslash (detail: how many, and the
   * first position). The JSON grammar decided which quotes end strings; the strings read exactly as written.
   */
  | "escape_inner_quote"
  /** repair: jsonrepair rewrote a damaged document (detail: the first syntax error it fixed). */
  | "jsonrepair"
  /**
   * repair: the engine's own steps could not read the document, and jsonrepair alone (after extraction only)
   * could, with every guard passed: complete stop_reason, nothing closed by the repair, every string as written,
   * no truncation signal (shared/parse/floor.ts). Detail: why the own steps failed.
   */
  | "jsonrepair_alone"
  /** repair: backslashes that began no valid escape were kept as backslashes. */
  | "keep_stray_backslash"
  /** repair: the document ended early; it was cut back to the last complete member and closed. */
  | "close_unfinished"
  /** repair: the unfinished member at the end of the text was dropped (detail: its path). */
  | "drop_unfinished"
  /** validate: a numeric string became a number (detail: its path). */
  | "coerce_number"
  /** validate: an optional field holding null was dropped (detail: its path). */
  | "drop_null"
  /** truncation: turns after the last complete, valid turn were left out of the partial conversation. */
  | "drop_turns";

export interface Fix {
  readonly step: FixStep;
  readonly code: FixCode;
  readonly detail?: string;
}

interface ResultBase {
  readonly fixes: readonly Fix[];
  /** The envelope's `stop_reason`, as stored (null when absent or unreadable). */
  readonly stopReason: string | null;
  readonly parserVersion: string;
}

/** A complete conversation that passed the schema, with no sign of truncation. */
export interface ParsedResult extends ResultBase {
  readonly outcome: "parsed";
  readonly method: ParseMethod;
  readonly conversation: Conversation;
  readonly error: null;
  readonly truncated: false;
}

/**
 * A truncated response. `conversation` holds only what was complete in the raw text, exactly as written:
 * metadata if its object closed and validated, and the longest run of complete, valid turns from turn 1.
 * It is null when nothing was complete.
 */
export interface PartialResult extends ResultBase {
  readonly outcome: "partial";
  readonly method: ParseMethod;
  readonly conversation: PartialConversation | null;
  readonly error: ParseError & { readonly code: TruncationCode };
  readonly truncated: true;
}

/**
 * Nothing usable. `method` names the step that produced JSON when the schema rejected it, else null.
 * `truncated` is true when the envelope or the text showed truncation as well.
 */
export interface FailedResult extends ResultBase {
  readonly outcome: "failed";
  readonly method: ParseMethod | null;
  readonly conversation: null;
  readonly error: ParseError;
  readonly truncated: boolean;
}

export type ParseResult = ParsedResult | PartialResult | FailedResult;

export type ParseOutcome = ParseResult["outcome"];

/** A step's failure, before the chain stamps it into a result. */
export function parseError(code: ParseErrorCode, message: string): ParseError {
  return { code, message };
}

/**
 * The group key for error-pattern reports: the message with every number replaced by `N`, so
 * "unterminated string at position 8517" and "... at position 8471" fall into one group.
 * SQL equivalent: `regexp_replace(parse_error_message, '[0-9]+', 'N', 'g')`.
 */
export function errorPattern(message: string): string {
  return message.replace(/[0-9]+/g, "N");
}
