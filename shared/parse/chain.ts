/**
 * The parse chain: a stored Messages API response in, a `ParseResult` out. Never throws; deterministic; bounded.
 *
 *   size limit    raw over maxRawBytes (PARSE_MAX_RAW_BYTES)                   -> too_large, unread
 *   envelope.ts   read the body: text blocks or tool input, stop_reason        -> invalid_envelope, refusal, empty_output
 *   depth limit   brackets nested deeper than 64                                -> too_deep
 *   steps.ts      the JSON steps, in order: direct, extract, repair             -> a value, or invalid_json / no_json
 *   validate.ts   coercions, then the zod schema                                -> schema_invalid
 *   truncation.ts stop_reason, closure, dangling escape, cut at an opening quote, missing final turn -> "partial"
 *   floor.ts      no conversation yet: jsonrepair alone, taken only if every guard holds -> method "jsonrepair"
 *
 * called by: the parse-conversation function and cli/parse.ts; see docs/PARSING.md.
 */
import { exceedsDepth, MAX_DEPTH, scanStructure, ZERO_WIDTH } from "./_json_scan.ts";
import { describeSyntaxError, findJsonSyntaxError } from "./_json_syntax.ts";
import { readEnvelope } from "./envelope.ts";
import { readFloor } from "./floor.ts";
import { JSON_STEPS, type StepContext } from "./steps.ts";
import type { FailedResult, Fix, ParseError, ParseMethod, ParseResult, ParseStep } from "./result.ts";
import { parseError } from "./result.ts";
import { detectTruncation, salvageConversation, stopReasonTruncates } from "./truncation.ts";
import { describeSchemaIssue, validateConversation } from "./validate.ts";

/**
 * Bump on every change of behaviour (a different outcome, method, conversation, fix or message for any input),
 * so re-parses after an upgrade can be told apart in the attempts log. Format: year.month.sequence.
 */
export const PARSER_VERSION = "2026.12.1";

export const ALL_STEPS: readonly ParseStep[] = ["direct", "extract", "repair", "floor"];

/**
 * The largest raw object (bytes) the default parser reads: 1 MiB. Claude's longest outputs (128k tokens) are
 * about 0.5 MB of text; this project asks for at most 24,576 tokens (about 100 kB). Bigger objects are refused
 * unread with `too_large` (into review, raw kept): hosted Edge Functions give 2 s of CPU per request, and the
 * worst shapes under the limit cost hundreds of milliseconds (docs/BENCHMARKS.md "Parse engine: worst cases").
 * The parse flow sets it from `PARSE_MAX_RAW_BYTES`.
 */
export const DEFAULT_MAX_RAW_BYTES = 1024 * 1024;

export interface ParserOptions {
  /** Stamped on every result; defaults to `PARSER_VERSION`. */
  readonly version?: string;
  /** Raw objects over this many bytes fail with `too_large` unread; defaults to `DEFAULT_MAX_RAW_BYTES`. */
  readonly maxRawBytes?: number;
  /**
   * The JSON steps to run, always in chain order; defaults to all. An older parser is a subset, e.g.
   * `createParser({ version: "2025.11.0", steps: ["direct"] })` fails everything JSON.parse cannot read.
   */
  readonly steps?: readonly ParseStep[];
}

export type Parser = (raw: string | Uint8Array) => ParseResult;

/** What the JSON steps produced before validation. */
type JsonOutcome =
  | { readonly ok: true; readonly value: unknown; readonly method: ParseMethod; readonly unclosed: boolean }
  | {
    readonly ok: false;
    readonly error: ParseError;
    /** The step that ran last when the failure is a truncation (for a partial result). */
    readonly method: ParseMethod | null;
    /** The text ended inside the document. */
    readonly unclosed: boolean;
  };

const BLANK = new RegExp(`^[\\s${ZERO_WIDTH}]*$`);

function isBlank(text: string): boolean {
  return BLANK.test(text);
}

const TOO_DEEP: JsonOutcome = {
  ok: false,
  error: parseError("too_deep", `Cannot parse JSON: brackets nest deeper than ${MAX_DEPTH} levels`),
  method: null,
  unclosed: false,
};

/** Runs the enabled JSON steps (shared/parse/steps.ts) in order until one reads a value or names a failure. */
function readJson(text: string, steps: ReadonlySet<ParseStep>, fixes: Fix[]): JsonOutcome {
  // Bounded cost: V8's JSON.parse and jsonrepair take seconds on megabytes of `[`; no conversation nests so deep.
  if (exceedsDepth(text)) return TOO_DEEP;
  let candidate = text;
  let ctx: StepContext = { positionOf: (index) => index };
  let extracted = false;
  for (const step of JSON_STEPS) {
    if (!steps.has(step.name)) continue;
    const output = step.run(candidate, ctx);
    fixes.push(...output.fixes);
    if (output.kind === "value") {
      return { ok: true, value: output.value, method: step.method, unclosed: output.unclosed };
    }
    if (output.kind === "error") {
      // A truncation keeps the step that read the JSON (for a partial result); other failures name none,
      // except the repair step's, which ran on JSON.
      const method = step.name === "repair" ? step.method : null;
      return { ok: false, error: output.error, method, unclosed: output.unclosed };
    }
    if (step.name === "extract") extracted = true;
    candidate = output.text;
    ctx = output.ctx;
  }
  const positionOf = ctx.positionOf;

  // No step could read it (an older parser without repair): name the first syntax error. Valid JSON gets here
  // only as a JSON string that no extraction step decoded.
  const syntax = findJsonSyntaxError(candidate);
  const cause = syntax === null
    ? "the text is a JSON string, not a document"
    : describeSyntaxError(syntax, positionOf(syntax.position));
  const unclosed = extracted
    ? scanStructure(candidate, Math.max(0, candidate.search(/[{[]/))).end < 0
    : syntax !== null && syntax.position >= candidate.length;
  return {
    ok: false,
    error: parseError("invalid_json", `Cannot parse JSON: ${cause}`),
    method: null,
    unclosed,
  };
}

/**
 * The floor step: jsonrepair alone after extraction only, then the schema. Runs only when the engine's own steps
 * returned no conversation, so the engine is never worse than the library alone. jsonrepair accepts what the
 * engine must not (it closes cut text, alters strings it misreads), so its reading is taken only when every
 * guard holds; otherwise the engine's own result stands.
 */
function parseWithFloor(text: string, own: ParseResult, stopReason: string | null, version: string) {
  if (own.outcome === "parsed" || stopReasonTruncates(stopReason)) return own;
  // Valid JSON read exactly (direct, extracted) that fails the schema is not a conversation: nothing to repair.
  if (own.method === "direct" || own.method === "extracted") return own;
  if (own.error.code === "truncated_turn" || own.error.code === "truncated_content") return own;
  const floor = readFloor(text);
  if (!floor.ok || floor.closedByRepair || floor.repeatsName || !floor.verbatim) return own;
  if (detectTruncation({ stopReason, unclosed: false, value: floor.conversation }) !== null) return own;
  const result: ParseResult = {
    outcome: "parsed",
    method: "jsonrepair",
    conversation: floor.conversation,
    fixes: [
      ...own.fixes.filter((fix) => fix.step === "envelope"),
      { step: "repair", code: "jsonrepair_alone", detail: own.error.code },
    ],
    error: null,
    stopReason,
    truncated: false,
    parserVersion: version,
  };
  return result;
}

function runChain(raw: string | Uint8Array, steps: ReadonlySet<ParseStep>, version: string): ParseResult {
  const own = runOwnSteps(raw, steps, version);
  if (!steps.has("floor")) return own;
  const envelope = readEnvelope(raw);
  if (!envelope.ok || envelope.envelope.content.kind !== "text") return own;
  return parseWithFloor(envelope.envelope.content.text, own, envelope.envelope.stopReason, version);
}

function runOwnSteps(raw: string | Uint8Array, steps: ReadonlySet<ParseStep>, version: string): ParseResult {
  const envelope = readEnvelope(raw);
  if (!envelope.ok) {
    return failed(envelope.error, [], null, false, null, version);
  }
  const fixes: Fix[] = [...envelope.fixes];
  const { content, stopReason } = envelope.envelope;
  const stopTruncated = stopReasonTruncates(stopReason);
  if (stopReason === "refusal") {
    return failed(
      parseError("refusal", "Cannot use response: Claude refused (stop_reason refusal)"),
      fixes,
      stopReason,
      false,
      null,
      version,
    );
  }

  let json: JsonOutcome;
  if (content.kind === "tool_use") {
    // The API already parsed the tool input: it is JSON by construction.
    json = { ok: true, value: content.input, method: "direct", unclosed: false };
  } else if (isBlank(content.text)) {
    return failed(
      parseError("empty_output", "Cannot use response: it has no text"),
      fixes,
      stopReason,
      stopTruncated,
      null,
      version,
    );
  } else {
    json = readJson(content.text, steps, fixes);
  }

  if (!json.ok) {
    if (json.unclosed && json.method !== null) {
      // The text ended inside the document and nothing complete could be read: still a truncation.
      const signal = detectTruncation({ stopReason, unclosed: true, value: null });
      if (signal !== null) {
        return {
          outcome: "partial",
          method: json.method,
          conversation: null,
          fixes,
          error: signal,
          stopReason,
          truncated: true,
          parserVersion: version,
        };
      }
    }
    return failed(json.error, fixes, stopReason, stopTruncated || json.unclosed, null, version);
  }

  const validation = validateConversation(json.value);
  fixes.push(...validation.fixes);
  const value = validation.ok ? validation.conversation : validation.value;
  const signal = detectTruncation({ stopReason, unclosed: json.unclosed, value });
  if (signal === null && validation.ok) {
    return {
      outcome: "parsed",
      method: json.method,
      conversation: validation.conversation,
      fixes,
      error: null,
      stopReason,
      truncated: false,
      parserVersion: version,
    };
  }
  if (signal !== null) {
    const salvage = salvageConversation(value);
    fixes.push(...salvage.fixes);
    return {
      outcome: "partial",
      method: json.method,
      conversation: salvage.conversation,
      fixes,
      error: signal,
      stopReason,
      truncated: true,
      parserVersion: version,
    };
  }
  const issue = validation.ok ? null : validation.issue;
  const message = issue === null
    ? "Cannot validate conversation: the document is invalid"
    : describeSchemaIssue(issue);
  return failed(parseError("schema_invalid", message), fixes, stopReason, false, json.method, version);
}

function failed(
  error: ParseError,
  fixes: readonly Fix[],
  stopReason: string | null,
  truncated: boolean,
  method: ParseMethod | null,
  version: string,
): FailedResult {
  return {
    outcome: "failed",
    method,
    conversation: null,
    fixes,
    error,
    stopReason,
    truncated,
    parserVersion: version,
  };
}

/** UTF-8 length of `raw`, counted only as far as needed to know whether it exceeds `limit`. */
function byteLength(raw: string | Uint8Array, limit: number): number {
  if (typeof raw !== "string") return raw.length;
  if (raw.length > limit) return raw.length;
  if (raw.length * 3 <= limit) return raw.length;
  let bytes = 0;
  for (let i = 0; i < raw.length && bytes <= limit; i++) {
    const code = raw.charCodeAt(i);
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdbff ? 2 : 3;
  }
  return bytes;
}

/** Builds a parser; `createParser()` is the current one. The returned function never throws. */
export function createParser(options: ParserOptions = {}): Parser {
  const version = options.version ?? PARSER_VERSION;
  const steps = new Set(options.steps ?? ALL_STEPS);
  const maxRawBytes = options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES;
  return (raw) => {
    try {
      if (byteLength(raw, maxRawBytes) > maxRawBytes) {
        return failed(
          parseError(
            "too_large",
            `Cannot parse response: it is over the parser's limit of ${maxRawBytes} bytes`,
          ),
          [],
          null,
          false,
          null,
          version,
        );
      }
      return runChain(raw, steps, version);
    } catch {
      // A bug, not a property of the response: the raw object is untouched and can be re-parsed after a fix.
      return failed(
        parseError("internal", "Cannot parse response: the parser raised an unexpected error"),
        [],
        null,
        false,
        null,
        version,
      );
    }
  };
}

/** The current parser: envelope, direct, extract, repair, validate, truncation checks. */
export const parseStoredResponse: Parser = createParser();
