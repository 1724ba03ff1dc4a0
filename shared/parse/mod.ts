/**
 * The parse engine's public API. Import from here, not from the step files.
 *
 *   import { parseStoredResponse } from "../shared/parse/mod.ts";
 *   const result = parseStoredResponse(rawBytes); // never throws
 *
 * See docs/PARSING.md for the chain, the rules, the error codes and the parser-version policy.
 */
export {
  ALL_STEPS,
  createParser,
  DEFAULT_MAX_RAW_BYTES,
  type Parser,
  PARSER_VERSION,
  type ParserOptions,
  parseStoredResponse,
} from "./chain.ts";
export { type Envelope, type EnvelopeContent, type EnvelopeResult, readEnvelope } from "./envelope.ts";
export { escapeInnerQuotes, type QuoteEscape } from "./escape_inner_quotes.ts";
export { extractCandidate, type Extraction, type ExtractResult, textPosition } from "./extract.ts";
export { type PositionMap, type Repair, repairCandidate, type RepairResult } from "./repair.ts";
export {
  errorPattern,
  type FailedResult,
  type Fix,
  type FixCode,
  type FixStep,
  PARSE_ERROR_CODES,
  type ParsedResult,
  type ParseError,
  type ParseErrorCode,
  type ParseMethod,
  type ParseOutcome,
  type ParseResult,
  type ParseStep,
  type PartialResult,
  type TruncationCode,
} from "./result.ts";
export {
  type Conversation,
  conversationJsonSchema,
  type ConversationMetadata,
  ConversationMetadataSchema,
  conversationOutputFormat,
  ConversationSchema,
  type EmotionalContext,
  EmotionalContextSchema,
  type PartialConversation,
  type Turn,
  TurnSchema,
  TurnsSchema,
} from "./schema.ts";
export {
  detectTruncation,
  hasDanglingEscape,
  salvageConversation,
  stopReasonTruncates,
  type TruncationInput,
  type TruncationSignal,
} from "./truncation.ts";
export {
  coerceConversation,
  describeSchemaIssue,
  type SchemaIssue,
  validateConversation,
  type ValidationResult,
} from "./validate.ts";
