/**
 * Step 4 of the parse chain: turn a damaged JSON candidate into a value, and say whether the document had to be
 * closed.
 *
 * jsonrepair fixes what models actually break (unescaped inner quotes, raw newlines, trailing commas, single
 * quotes), but it also closes cut-off JSON silently, so its output can look complete when the model never
 * finished. This step therefore decides closure itself (shared/parse/_json_scan.ts):
 * - closed document: jsonrepair, then a check that the repaired value has as many turns as the text;
 * - unclosed document: cut back to the last complete turn (or complete top-level member), close the brackets,
 *   and parse that. Nothing after the cut is kept, so no string, number or turn is ever finished by a guess.
 *
 * called by: shared/parse/chain.ts; next: shared/parse/validate.ts.
 */
import { jsonrepair } from "jsonrepair";
import { scanStructure } from "./_json_scan.ts";
import { describeSyntaxError, findJsonSyntaxError } from "./_json_syntax.ts";
import type { Fix, ParseError } from "./result.ts";
import { parseError } from "./result.ts";

export interface Repair {
  readonly value: unknown;
  /** True when the text ended before the document closed: `value` holds only complete members. */
  readonly unclosed: boolean;
}

export type RepairResult =
  | { readonly ok: true; readonly repair: Repair; readonly fixes: readonly Fix[] }
  | {
    readonly ok: false;
    readonly error: ParseError;
    /** As in `Repair`: an unclosed document that could not be salvaged is still a truncation. */
    readonly unclosed: boolean;
    readonly fixes: readonly Fix[];
  };

/** Maps an index in the candidate to the position reported in messages (the model's text). */
export type PositionMap = (candidateIndex: number) => number;

const identity: PositionMap = (index) => index;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Doubles backslashes that begin no JSON escape (`C:\path`), so the characters the model wrote survive:
 * jsonrepair would drop the backslash and change the content.
 */
function keepStrayBackslashes(text: string, indexes: readonly number[], limit: number): string {
  const parts: string[] = [];
  let from = 0;
  for (const index of indexes) {
    if (index >= limit) break;
    parts.push(text.slice(from, index + 1));
    from = index;
  }
  parts.push(text.slice(from));
  return parts.join("");
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function describeOpen(inString: boolean, brackets: string): string {
  const objects = brackets.split("{").length - 1;
  const arrays = brackets.split("[").length - 1;
  const parts = [
    inString ? "a string" : "",
    objects > 0 ? plural(objects, "object", "objects") : "",
    arrays > 0 ? plural(arrays, "array", "arrays") : "",
  ].filter((part) => part.length > 0);
  return `${parts.join(", ")} open at the end`;
}

/** JSON.parse, else jsonrepair then JSON.parse; null when both fail. */
function parseLeniently(text: string): { value: unknown; repaired: boolean } | null {
  try {
    return { value: JSON.parse(text), repaired: false };
  } catch {
    // damaged: fall through to jsonrepair
  }
  try {
    return { value: JSON.parse(jsonrepair(text)), repaired: true };
  } catch {
    return null;
  }
}

function turnCountOf(value: unknown): number | null {
  return isRecord(value) && Array.isArray(value.turns) ? value.turns.length : null;
}

/** Repairs `candidate` (normally the extracted document). Never throws. */
export function repairCandidate(candidate: string, positionOf: PositionMap = identity): RepairResult {
  const fixes: Fix[] = [];
  const start = candidate.search(/[{[]/);
  const scan = start >= 0 ? scanStructure(candidate, start) : null;
  const strays = scan?.strayBackslashes ?? [];

  // Ending inside a string yet on a closing brace is how a complete document with ambiguous quoting reads
  // (`"the "snowball", which"`), not how a cut one does: it goes to jsonrepair, whose reading must then agree
  // with the text's turn count, so a document that really was cut there still cannot come out complete.
  const misreadQuote = scan?.openAtEnd?.inString === true && /\}\s*$/.test(candidate);
  if (scan !== null && scan.cut !== null && scan.openAtEnd !== null && !misreadQuote) {
    // repair: unfinished document. Keep complete members only, then close what is open at the cut.
    const { cut, openAtEnd } = scan;
    fixes.push({
      step: "repair",
      code: "close_unfinished",
      detail: describeOpen(openAtEnd.inString, openAtEnd.brackets),
    });
    if (cut.dropped !== null) fixes.push({ step: "repair", code: "drop_unfinished", detail: cut.dropped });
    const kept = strays.filter((index) => index < cut.at);
    if (kept.length > 0) {
      fixes.push({
        step: "repair",
        code: "keep_stray_backslash",
        detail: plural(kept.length, "backslash", "backslashes"),
      });
    }
    const closedText = keepStrayBackslashes(candidate.slice(0, cut.at), kept, cut.at) + cut.closers;
    const parsed = parseLeniently(closedText);
    if (parsed === null) {
      return {
        ok: false,
        error: parseError(
          "invalid_json",
          "Cannot repair JSON: the complete part of the document does not parse",
        ),
        unclosed: true,
        fixes,
      };
    }
    if (parsed.repaired) {
      fixes.push({ step: "repair", code: "jsonrepair", detail: "inside the complete part" });
    }
    const turns = turnCountOf(parsed.value);
    if (turns !== null && turns !== scan.turnCount) {
      return {
        ok: false,
        error: parseError("invalid_json", "Cannot repair JSON: the repaired turns do not match the text"),
        unclosed: true,
        fixes,
      };
    }
    return { ok: true, repair: { value: parsed.value, unclosed: true }, fixes };
  }

  // repair: a closed but damaged document.
  const syntax = findJsonSyntaxError(candidate);
  const cause = syntax === null
    ? "an unknown error"
    : describeSyntaxError(syntax, positionOf(syntax.position));
  if (strays.length > 0) {
    fixes.push({
      step: "repair",
      code: "keep_stray_backslash",
      detail: plural(strays.length, "backslash", "backslashes"),
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(jsonrepair(keepStrayBackslashes(candidate, strays, candidate.length)));
  } catch {
    return {
      ok: false,
      error: parseError("invalid_json", `Cannot parse JSON: ${cause}`),
      unclosed: false,
      fixes,
    };
  }
  fixes.push({ step: "repair", code: "jsonrepair", detail: cause });
  // jsonrepair reads ambiguous quoting its own way; if it found a different number of turns than the text
  // shows, one of the two readings lost or invented a turn. Review beats a guess.
  const turns = turnCountOf(value);
  if (scan !== null && turns !== null && turns !== scan.turnCount) {
    return {
      ok: false,
      error: parseError(
        "invalid_json",
        `Cannot repair JSON: the repaired turns do not match the text (${cause})`,
      ),
      unclosed: false,
      fixes,
    };
  }
  return { ok: true, repair: { value, unclosed: false }, fixes };
}
