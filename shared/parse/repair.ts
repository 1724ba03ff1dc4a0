/**
 * Step 4 of the parse chain: turn a damaged JSON candidate into a value, and say whether the document had to be
 * closed.
 *
 * First the inner quotes the model did not escape get their backslash (shared/parse/escape_inner_quotes.ts: the
 * JSON grammar decides which quotes end strings). Then jsonrepair fixes the rest of what models break (raw
 * newlines, trailing commas, missing commas, single quotes), but it also closes cut-off JSON silently, so its
 * output can look complete when the model never finished. This step therefore decides closure itself
 * (shared/parse/_json_scan.ts):
 * - closed document: jsonrepair turn by turn, and the rest of the document must agree on where the turns are;
 * - unclosed document: cut back to the last complete turn (or complete top-level member), close the brackets,
 *   and parse that. Nothing after the cut is kept, so no string, number or turn is ever finished by a guess.
 *
 * called by: shared/parse/chain.ts; next: shared/parse/validate.ts.
 */
import { isRecord } from "./_is_record.ts";
import { countProperties } from "./_property_count.ts";
import { jsonrepair } from "jsonrepair";
import { endsLikeClosedDocument, scanStructure } from "./_json_scan.ts";
import { describeSyntaxError, findJsonSyntaxError } from "./_json_syntax.ts";
import { candidateIndex, escapeAndScan, innerQuoteFix, insertBackslashes } from "./escape_inner_quotes.ts";
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

/**
 * The most text one jsonrepair call gets. jsonrepair rebuilds its output on many fixes, so its cost grows faster
 * than the text (seconds for a few damaged megabytes); a real document reaches it in pieces (one turn at a time,
 * then the rest with the turns taken out), each far below this. A piece over it is not repaired.
 */
export const MAX_REPAIR_CHARS = 512 * 1024;

/** JSON.parse, else jsonrepair then JSON.parse; null when both fail (or the text is over the repair limit). */
function parseLeniently(text: string): { value: unknown; repaired: boolean } | null {
  try {
    return { value: JSON.parse(text), repaired: false };
  } catch {
    // damaged: fall through to jsonrepair
  }
  if (text.length > MAX_REPAIR_CHARS) return null;
  try {
    return { value: JSON.parse(jsonrepair(text)), repaired: true };
  } catch {
    return null;
  }
}

type Spans = readonly (readonly [number, number])[];

/**
 * Parses a closed document one turn at a time: each turn object on its own, then the rest of the document with
 * every turn replaced by its index. Why: jsonrepair rebuilds its output string on many fixes, so one pass over a
 * 500 kB document with thousands of fixes takes seconds; pieces keep it linear. It also keeps damage in one turn
 * from changing how the next is read. The rest must read back as exactly `[0, 1, ..., n-1]` in `turns`: any
 * other reading means jsonrepair and the scan disagree about where turns are, and a guess could lose one.
 */
function parseByTurns(
  text: string,
  spans: Spans,
): { value: unknown; repaired: boolean } | "unreadable" | "disagrees" {
  if (spans.length === 0) return parseLeniently(text) ?? "unreadable";
  const parts: string[] = [];
  let from = 0;
  spans.forEach(([start, end], index) => {
    parts.push(text.slice(from, start), String(index));
    from = end;
  });
  parts.push(text.slice(from));
  const rest = parseLeniently(parts.join(""));
  if (rest === null) return "unreadable";
  const placeholders = isRecord(rest.value) ? rest.value.turns : undefined;
  if (
    !Array.isArray(placeholders) || placeholders.length !== spans.length ||
    !placeholders.every((placeholder, index) => placeholder === index)
  ) {
    return "disagrees";
  }
  let repaired = rest.repaired;
  const turns: unknown[] = [];
  for (const [start, end] of spans) {
    const turn = parseLeniently(text.slice(start, end));
    if (turn === null) return "unreadable";
    repaired ||= turn.repaired;
    turns.push(turn.value);
  }
  return { value: { ...(rest.value as Record<string, unknown>), turns }, repaired };
}

/** Repairs `candidate` (normally the extracted document). Never throws. */
export function repairCandidate(candidate: string, positionOf: PositionMap = identity): RepairResult {
  const fixes: Fix[] = [];
  const start = candidate.search(/[{[]/);
  if (start < 0) {
    // Nothing bracketed (an older chain without extraction): jsonrepair gets the text as it is.
    const parsed = parseLeniently(candidate);
    if (parsed === null) {
      return {
        ok: false,
        error: parseError("invalid_json", "Cannot parse JSON: no object or array"),
        unclosed: false,
        fixes,
      };
    }
    fixes.push({ step: "repair", code: "jsonrepair", detail: "the whole text" });
    return { ok: true, repair: { value: parsed.value, unclosed: false }, fixes };
  }

  // repair: inner quotes the model did not escape. Backslashes only, so every string still reads as written.
  const { escape, scan } = escapeAndScan(candidate, start, positionOf);
  const escaped = escape.text;
  const modelPosition: PositionMap = (index) => positionOf(candidateIndex(escape, index));
  // Ending inside a string yet with the closers of a complete document is how a finished response with quoting
  // the grammar cannot resolve reads, not how a cut one does: it goes to jsonrepair, whose reading must then agree
  // with the text's turns (parseByTurns), so a document that really was cut there still cannot come out complete.
  const misreadQuote = endsLikeClosedDocument(escaped, scan);
  const cut = misreadQuote ? null : scan.cut;
  if (cut === null) {
    fixes.push(...escape.fixes);
  } else {
    // Only the quotes in the part that is kept count: the unfinished member after the cut is dropped.
    const end = candidateIndex(escape, cut.at);
    const kept = escape.escaped.filter((index) => index < end);
    if (kept.length > 0) fixes.push(innerQuoteFix(kept.length, positionOf(kept[0])));
  }
  let text = escaped;
  if (cut !== null && scan.openAtEnd !== null) {
    // repair: unfinished document. Keep complete members only, then close what is open at the cut.
    fixes.push({
      step: "repair",
      code: "close_unfinished",
      detail: describeOpen(scan.openAtEnd.inString, scan.openAtEnd.brackets),
    });
    if (cut.dropped !== null) fixes.push({ step: "repair", code: "drop_unfinished", detail: cut.dropped });
    text = escaped.slice(0, cut.at) + cut.closers;
  }
  const strays = scan.strayBackslashes.filter((index) => cut === null || index < cut.at);
  if (strays.length > 0) {
    // repair: backslashes that begin no JSON escape (`C:\path`) are doubled, so the characters the model wrote
    // survive: jsonrepair would drop the backslash and change the content.
    fixes.push({
      step: "repair",
      code: "keep_stray_backslash",
      detail: plural(strays.length, "backslash", "backslashes"),
    });
    text = insertBackslashes(text, strays);
  }
  // Positions moved if the text was cut or backslashes were doubled: scan the text that gets parsed.
  const parsedScan = text === escaped ? scan : scanStructure(text, start);

  const syntax = cut === null ? findJsonSyntaxError(escaped) : null;
  const cause = syntax === null
    ? "an unknown error"
    : describeSyntaxError(syntax, modelPosition(syntax.position));
  const parsed = parseByTurns(text, parsedScan.turnSpans);
  if (parsed === "disagrees") {
    const error = parseError("invalid_json", "Cannot repair JSON: the repaired turns do not match the text");
    return { ok: false, error, unclosed: cut !== null, fixes };
  }
  if (parsed !== "unreadable" && countProperties(parsed.value) < parsedScan.keyCount) {
    // A name repeated in one object: JSON.parse keeps only the last value. After a repair that means the reading
    // split a string into members (`"He typed "a", "role": "admin" here"` inside a turn that has a role), and
    // what the model wrote under the first name would silently disappear.
    const error = parseError(
      "invalid_json",
      "Cannot repair JSON: the repaired properties do not match the text",
    );
    return { ok: false, error, unclosed: cut !== null, fixes };
  }
  if (parsed === "unreadable") {
    const message = cut !== null
      ? "Cannot repair JSON: the complete part of the document does not parse"
      : `Cannot parse JSON: ${cause}`;
    return { ok: false, error: parseError("invalid_json", message), unclosed: cut !== null, fixes };
  }
  if (parsed.repaired) {
    fixes.push({
      step: "repair",
      code: "jsonrepair",
      detail: cut !== null ? "inside the complete part" : cause,
    });
  }
  return { ok: true, repair: { value: parsed.value, unclosed: cut !== null }, fixes };
}
