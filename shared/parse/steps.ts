/**
 * The JSON steps of the parse chain as an ordered list of functions with one contract:
 * `(text, ctx) => { value | error | next text, fixes }`. Each step either reads a value, fails for a reason
 * it can name, or hands the next step a text (and what it learned about positions). The chain
 * (shared/parse/chain.ts) runs them in this order, then validation, the truncation checks and, last, the floor.
 *
 *   1. direct    JSON.parse(text)
 *   2. extract   BOM / zero-width / comments outside strings, typographic and single-quote delimiters, fence,
 *                prose, one level of string encoding; then JSON.parse of the candidate
 *   3. repair    escape inner quotes by the grammar; closed: jsonrepair turn by turn; unclosed: cut and close
 *   (after validation and truncation) floor: jsonrepair alone, guarded (shared/parse/floor.ts, chain.ts)
 *
 * Like jsonrepair's `parseValue`, a list of separate steps tried in order; unlike it, every step reports the
 * fixes it made, so a repaired text can never pass for one that was complete.
 *
 * used by: shared/parse/chain.ts.
 */
import { repeatsPropertyName } from "./_property_count.ts";
import { extractCandidate, textPosition } from "./extract.ts";
import { type PositionMap, repairCandidate } from "./repair.ts";
import type { Fix, ParseError, ParseMethod, ParseStep } from "./result.ts";
import { parseError } from "./result.ts";

/** What a step knows besides the text: how to report positions in the model's own text. */
export interface StepContext {
  readonly positionOf: PositionMap;
}

export type StepOutput =
  /** A JSON value; `unclosed` when the text ended inside the document and only complete members were kept. */
  | {
    readonly kind: "value";
    readonly value: unknown;
    readonly unclosed: boolean;
    readonly fixes: readonly Fix[];
  }
  /** A failure this step can name; the chain stops here. */
  | {
    readonly kind: "error";
    readonly error: ParseError;
    readonly unclosed: boolean;
    readonly fixes: readonly Fix[];
  }
  /** Not this step's to read: the next step gets `text` and `ctx`. */
  | {
    readonly kind: "next";
    readonly text: string;
    readonly ctx: StepContext;
    readonly fixes: readonly Fix[];
  };

export interface JsonStep {
  readonly name: ParseStep;
  /** The method a value read by this step is reported with. */
  readonly method: ParseMethod;
  readonly run: (text: string, ctx: StepContext) => StepOutput;
}

/**
 * Valid JSON that repeats a property name in one object: JSON.parse would keep only the last value. With unescaped
 * inner quotes, `"content": "He said "x", "content": "y"` parses, and the content the model wrote is lost.
 */
function repeatedName(fixes: readonly Fix[]): StepOutput {
  const error = parseError("invalid_json", "Cannot parse JSON: a property name repeats in one object");
  return { kind: "error", error, unclosed: false, fixes };
}

/** JSON.parse of the whole text. A JSON string is not a document: extraction decodes it. */
export const directStep: JsonStep = {
  name: "direct",
  method: "direct",
  run(text, ctx) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { kind: "next", text, ctx, fixes: [] }; // not valid JSON as a whole
    }
    if (typeof value === "string") return { kind: "next", text, ctx, fixes: [] };
    if (repeatsPropertyName(text, value)) return repeatedName([]);
    return { kind: "value", value, unclosed: false, fixes: [] };
  },
};

/** Finds the document in the text (shared/parse/extract.ts), then JSON.parse of that candidate. */
export const extractStep: JsonStep = {
  name: "extract",
  method: "extracted",
  run(text) {
    const extracted = extractCandidate(text);
    if (!extracted.ok) {
      return { kind: "error", error: extracted.error, unclosed: false, fixes: extracted.fixes };
    }
    const extraction = extracted.extraction;
    const candidate = extraction.candidate;
    const positionOf: PositionMap = extraction.decoded
      ? (index) => index
      : (index) => textPosition(extraction, index);
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      // damaged or unclosed: the repair step gets the candidate
      return { kind: "next", text: candidate, ctx: { positionOf }, fixes: extracted.fixes };
    }
    if (repeatsPropertyName(candidate, value)) return repeatedName(extracted.fixes);
    return { kind: "value", value, unclosed: false, fixes: extracted.fixes };
  },
};

/** Inner quotes by the grammar, then jsonrepair; an unclosed document is cut back to complete members. */
export const repairStep: JsonStep = {
  name: "repair",
  method: "jsonrepair",
  run(text, ctx) {
    const repaired = repairCandidate(text, ctx.positionOf);
    if (repaired.ok) {
      return {
        kind: "value",
        value: repaired.repair.value,
        unclosed: repaired.repair.unclosed,
        fixes: repaired.fixes,
      };
    }
    return { kind: "error", error: repaired.error, unclosed: repaired.unclosed, fixes: repaired.fixes };
  },
};

/** The JSON steps, in the order they run. */
export const JSON_STEPS: readonly JsonStep[] = [directStep, extractStep, repairStep];
