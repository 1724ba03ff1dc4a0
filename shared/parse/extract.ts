/**
 * Step 3 of the parse chain (after a failed direct JSON.parse): find the JSON document in the model's text.
 * Removes, and records, what surrounds it: a byte order mark and zero-width characters outside string values,
 * a markdown code fence, prose before and after, or one level of JSON string encoding.
 *
 * Content is never altered: zero-width characters are removed only outside strings and only next to JSON
 * structure, so a zero-width joiner inside an emoji stays. The text between the document's first and last
 * bracket is otherwise copied as is.
 *
 * called by: shared/parse/chain.ts; next: JSON.parse of the candidate, else shared/parse/repair.ts.
 */
import { isQuoteChar } from "./_chars.ts";
import { isJsonWhitespace, isZeroWidth, nextSignificant, scanStructure, ZERO_WIDTH } from "./_json_scan.ts";
import type { Fix, ParseError } from "./result.ts";
import { parseError } from "./result.ts";

export interface Extraction {
  /** The JSON document (possibly damaged or unclosed), starting at its root `{`. */
  readonly candidate: string;
  /** Index in the source text where the candidate starts. */
  readonly offset: number;
  /** `[start, end)` in the source text of what was removed from inside the candidate (sorted, disjoint). */
  readonly removed: readonly (readonly [number, number])[];
  /** Whether the root object closed before the text ended. False means truncated or badly broken. */
  readonly closed: boolean;
  /** True when the source text was a JSON string and the candidate comes from its decoded value. */
  readonly decoded: boolean;
}

export type ExtractResult =
  | { readonly ok: true; readonly extraction: Extraction; readonly fixes: readonly Fix[] }
  | { readonly ok: false; readonly error: ParseError; readonly fixes: readonly Fix[] };

const OBJECT_KEY_START = /[A-Za-z_$][\w$]*[ \t]*:/y;

/**
 * The first `{` that opens an object: followed by a quoted key (or an unquoted `key:`), so braces in prose
 * ("{as requested}") are skipped.
 */
export function findObjectStart(text: string, from = 0): number {
  for (let i = text.indexOf("{", from); i >= 0; i = text.indexOf("{", i + 1)) {
    const next = nextSignificant(text, i + 1);
    const code = text.charCodeAt(next);
    if (isQuoteChar(code)) return i;
    OBJECT_KEY_START.lastIndex = next;
    if (OBJECT_KEY_START.test(text)) return i;
  }
  return -1;
}

function countZeroWidth(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    if (isZeroWidth(text.charCodeAt(i))) count++;
  }
  return count;
}

const ZERO_WIDTH_ALL = new RegExp(`[${ZERO_WIDTH}]`, "g");

function withoutZeroWidth(text: string): string {
  return text.replace(ZERO_WIDTH_ALL, "");
}

/** "```json" (any language tag) as the last line of the prefix. */
const FENCE_OPEN_AT_END = /(?:^|\n)[ \t]*(?:```|~~~)[^\n`]*$/;
const FENCE_AT_START = /^(?:```|~~~)/;
/** A closing fence on a line of its own, for documents whose end the scan could not find. */
const FENCE_LINE = /\n[ \t]*(?:```|~~~)[ \t]*(?:\n|$)/g;

function lastFenceLine(text: string, from: number): number {
  let found = -1;
  FENCE_LINE.lastIndex = from;
  for (let match = FENCE_LINE.exec(text); match !== null; match = FENCE_LINE.exec(text)) found = match.index;
  return found;
}

/** A fenced block's body: the text between an opening fence line and its closing fence. */
const FENCE_BODY = /(?:^|\n)[ \t]*(?:```|~~~)[^\n`]*\n([\s\S]*?)\n[ \t]*(?:```|~~~)/;

/**
 * If the text is one JSON string holding a document, its decoded value: the whole text, a fenced block's body
 * (```` ```json\n"{\"conversation_metadata\"…}"\n``` ````), or a line that starts such a string after prose.
 */
function findStringLayer(text: string): string | null {
  const whole = decodeStringLayer(text);
  if (whole !== null) return whole;
  const fence = FENCE_BODY.exec(text);
  if (fence !== null) {
    const body = decodeStringLayer(fence[1]);
    if (body !== null) return body;
  }
  const line = text.search(/(?:^|\n)[ \t]*"\{/);
  if (line < 0) return null;
  const first = text.indexOf('"', line);
  const last = text.lastIndexOf('"');
  return last > first ? decodeStringLayer(text.slice(first, last + 1)) : null;
}

/** If the whole text is one JSON string holding a document, its decoded value. */
function decodeStringLayer(text: string): string | null {
  const first = nextSignificant(text, 0);
  if (text.charCodeAt(first) !== 0x22) return null;
  let last = text.length - 1;
  while (last > first && (isJsonWhitespace(text.charCodeAt(last)) || isZeroWidth(text.charCodeAt(last)))) {
    last--;
  }
  try {
    const value: unknown = JSON.parse(text.slice(first, last + 1));
    return typeof value === "string" && findObjectStart(value) >= 0 ? value : null;
  } catch {
    return null;
  }
}

/** Finds the JSON document in `text`. Fails with `no_json` when there is none. */
export function extractCandidate(text: string): ExtractResult {
  const decoded = text.includes('"{') || text.includes('" {') ? findStringLayer(text) : null;
  if (decoded !== null) {
    // One level only: a string inside a string is not something a model writes by accident.
    return extractFrom(decoded, [{ step: "extract", code: "decode_string" }], true);
  }
  return extractFrom(text, [], false);
}

function extractFrom(text: string, fixes: Fix[], decoded: boolean): ExtractResult {
  const start = findObjectStart(text);
  if (start < 0) {
    return {
      ok: false,
      error: parseError("no_json", "Cannot find JSON: the text holds no JSON object"),
      fixes,
    };
  }

  const scan = scanStructure(text, start);
  let end: number;
  if (scan.end >= 0) {
    end = scan.end;
    // Redundant closing brackets right after the document are damage for the repair step, not prose.
    for (let i = nextSignificant(text, end); i < text.length; i = nextSignificant(text, i + 1)) {
      const code = text.charCodeAt(i);
      if (code !== 0x7d && code !== 0x5d) break;
      end = i + 1;
    }
    const after = nextSignificant(text, end);
    const code = text.charCodeAt(after);
    // More JSON after the document (a second object, a stray member): taking either part could lose content.
    if (code === 0x2c || code === 0x3a || code === 0x22 || code === 0x7b || code === 0x5b) {
      return {
        ok: false,
        error: parseError(
          "invalid_json",
          `Cannot extract JSON: unexpected content after the document at position ${after}`,
        ),
        fixes,
      };
    }
  } else {
    // The document never closed: it runs to the end of the text, or to a fence line that closes the block.
    const fence = lastFenceLine(text, start);
    end = fence >= 0 ? fence : text.length;
    while (
      end > start && (isJsonWhitespace(text.charCodeAt(end - 1)) || isZeroWidth(text.charCodeAt(end - 1)))
    ) end--;
  }

  const prefix = text.slice(0, start);
  const suffix = text.slice(end);
  const zeroWidthInside = scan.zeroWidth.filter((index) => index < end);
  const comments = scan.comments.filter(([from]) => from < end);
  const removed = mergeRanges(zeroWidthInside, comments, end);

  if (prefix.charCodeAt(0) === 0xfeff) fixes.push({ step: "extract", code: "strip_bom" });
  const zeroWidthCount = countZeroWidth(prefix) - (prefix.charCodeAt(0) === 0xfeff ? 1 : 0) +
    zeroWidthInside.length +
    countZeroWidth(suffix);
  if (zeroWidthCount > 0) {
    fixes.push({
      step: "extract",
      code: "strip_zero_width",
      detail: `${zeroWidthCount} character${zeroWidthCount === 1 ? "" : "s"}`,
    });
  }

  const visiblePrefix = withoutZeroWidth(prefix).trimEnd();
  const fenceOpen = FENCE_OPEN_AT_END.exec(visiblePrefix);
  const visibleSuffix = withoutZeroWidth(suffix).trim();
  const fenceClose = FENCE_AT_START.test(visibleSuffix);
  if (fenceOpen !== null || fenceClose) fixes.push({ step: "extract", code: "strip_fence" });
  const proseBefore = fenceOpen !== null
    ? visiblePrefix.slice(0, fenceOpen.index).trim()
    : visiblePrefix.trim();
  if (proseBefore.length > 0) fixes.push({ step: "extract", code: "strip_prose_before" });
  const proseAfter = fenceClose ? visibleSuffix.replace(/^(?:```|~~~)[^\n]*/, "").trim() : visibleSuffix;
  if (proseAfter.length > 0) fixes.push({ step: "extract", code: "strip_prose_after" });

  if (comments.length > 0) {
    fixes.push({ step: "extract", code: "strip_comments", detail: plural(comments.length, "comment") });
  }
  const delimiters = scan.delimiters.filter((index) => index < end);
  if (delimiters.length > 0) {
    fixes.push({ step: "extract", code: "normalize_quotes", detail: plural(delimiters.length, "quote") });
  }

  const candidate = buildCandidate(text, start, end, removed, delimiters);
  return {
    ok: true,
    extraction: { candidate, offset: start, removed, closed: scan.end >= 0, decoded },
    fixes,
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Zero-width characters and comments as sorted, disjoint `[start, end)` ranges (comments hold no others). */
function mergeRanges(
  zeroWidth: readonly number[],
  comments: readonly (readonly [number, number])[],
  end: number,
): [number, number][] {
  const ranges: [number, number][] = [
    ...zeroWidth.map((index): [number, number] => [index, index + 1]),
    ...comments.map(([from, to]): [number, number] => [from, Math.min(to, end)]),
  ];
  if (zeroWidth.length > 0 && comments.length > 0) ranges.sort((a, b) => a[0] - b[0]);
  return ranges;
}

/**
 * The candidate: `text.slice(start, end)` without the removed ranges, with every typographic or single-quote
 * delimiter read as `"`. Same-length replacement, so positions move only by what was removed.
 */
function buildCandidate(
  text: string,
  start: number,
  end: number,
  removed: readonly (readonly [number, number])[],
  delimiters: readonly number[],
): string {
  if (removed.length === 0 && delimiters.length === 0) return text.slice(start, end);
  const parts: string[] = [];
  let from = start;
  let d = 0;
  const copy = (to: number) => {
    while (d < delimiters.length && delimiters[d] < to) {
      if (delimiters[d] >= from) {
        parts.push(text.slice(from, delimiters[d]), '"');
        from = delimiters[d] + 1;
      }
      d++;
    }
    parts.push(text.slice(from, to));
  };
  for (const [removeFrom, removeTo] of removed) {
    copy(removeFrom);
    from = removeTo;
  }
  copy(end);
  return parts.join("");
}

/** Maps an index in `extraction.candidate` back to the source text, for error positions. */
export function textPosition(extraction: Extraction, candidateIndex: number): number {
  let position = extraction.offset + candidateIndex;
  for (const [from, to] of extraction.removed) {
    if (from <= position) position += to - from;
    else break;
  }
  return position;
}
