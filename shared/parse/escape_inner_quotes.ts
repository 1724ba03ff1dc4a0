/**
 * Repair step 1 of 2 (before jsonrepair): escape the quotes a model wrote inside string values without a
 * backslash, as in `"content": "When people say "max it out", they mean…"`.
 *
 * These are resolved with the JSON grammar, not guessed: the structural scan (shared/parse/_json_scan.ts,
 * `closesString`) reads a quote as the end of a string only when what follows is a legal continuation in that
 * place: after a value in an object, `}` or `,` and a property name with its `:`; in an array, `]` or `,` and a
 * value; after a key, `:`. Every other quote is the model's own, and gets a backslash. Only backslashes are
 * added: after JSON unescaping, every string reads exactly as the model wrote it, quotes included.
 *
 * jsonrepair cannot do this itself: it decides at the quote, from the next character only, so `", they` reads
 * as the end of the string and the rest of the sentence becomes unparseable.
 *
 * called by: shared/parse/repair.ts (first, on the whole candidate); next: cut/close, then jsonrepair.
 */
import { endsLikeClosedDocument, scanStructure, type StructureScan } from "./_json_scan.ts";
import type { Fix } from "./result.ts";

export interface QuoteEscape {
  /** The candidate with a backslash inserted before every inner quote; the candidate itself when none. */
  readonly text: string;
  /** Indexes in the candidate of the quotes that were escaped, ascending. */
  readonly escaped: readonly number[];
  /** `escape_inner_quote` with the count and the first position, or nothing. */
  readonly fixes: readonly Fix[];
}

function plural(count: number): string {
  return `${count} ${count === 1 ? "quote" : "quotes"}`;
}

/** The fix recorded for `escaped` quotes, the first reported at `firstPosition` (a position in the model's text). */
export function innerQuoteFix(count: number, firstPosition: number): Fix {
  return {
    step: "repair",
    code: "escape_inner_quote",
    detail: `${plural(count)}, the first at position ${firstPosition}`,
  };
}

/** Inserts a backslash before each index (ascending). */
export function insertBackslashes(text: string, indexes: readonly number[]): string {
  if (indexes.length === 0) return text;
  const parts: string[] = [];
  let from = 0;
  for (const index of indexes) {
    parts.push(text.slice(from, index), "\\");
    from = index;
  }
  parts.push(text.slice(from));
  return parts.join("");
}

/**
 * Maps an index in `escape.text` back to the candidate: each inserted backslash before it shifts it by one.
 * The k-th backslash sits at `escaped[k] + k` in the escaped text.
 */
export function candidateIndex(escape: QuoteEscape, textIndex: number): number {
  const escaped = escape.escaped;
  let low = 0;
  let high = escaped.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (escaped[middle] + middle < textIndex) low = middle + 1;
    else high = middle;
  }
  return textIndex - low;
}

/**
 * Escapes the inner quotes of `candidate` (a JSON document, closed or cut off, starting at its first `{` or `[`).
 * Leaves the text as it is when the grammar finds no consistent reading: a document that ends with the closers of
 * a complete one while the scan still sits inside a string (a closing quote missing) is handed on unchanged, so
 * the later steps fail it rather than build on a reading the grammar could not confirm. Never throws; linear.
 */
export function escapeInnerQuotes(
  candidate: string,
  positionOf: (candidateIndex: number) => number = (index) => index,
): QuoteEscape {
  const start = candidate.search(/[{[]/);
  if (start < 0) return { text: candidate, escaped: [], fixes: [] };
  return escapeAndScan(candidate, start, positionOf).escape;
}

/**
 * `escapeInnerQuotes` for the repair step, which needs the structure of the escaped text too: returns its scan,
 * reusing the first one when nothing was escaped (the common case costs one scan, not two).
 */
export function escapeAndScan(
  candidate: string,
  start: number,
  positionOf: (candidateIndex: number) => number,
): { readonly escape: QuoteEscape; readonly scan: StructureScan } {
  const scan = scanStructure(candidate, start);
  if (scan.innerQuotes.length === 0 || endsLikeClosedDocument(candidate, scan)) {
    return { escape: { text: candidate, escaped: [], fixes: [] }, scan };
  }
  const text = insertBackslashes(candidate, scan.innerQuotes);
  const escape: QuoteEscape = {
    text,
    escaped: scan.innerQuotes,
    fixes: [innerQuoteFix(scan.innerQuotes.length, positionOf(scan.innerQuotes[0]))],
  };
  return { escape, scan: scanStructure(text, start) };
}
