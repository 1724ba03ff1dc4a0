/**
 * The one table of character codes the parse engine's scanners read. Named once, so a rule such as "a quote
 * opens a string" says which quotes it means.
 *
 * used by: shared/parse/_json_scan.ts, shared/parse/extract.ts.
 */
export const CHAR = {
  QUOTE: 0x22,
  APOSTROPHE: 0x27,
  BACKSLASH: 0x5c,
  SLASH: 0x2f,
  STAR: 0x2a,
  LBRACE: 0x7b,
  RBRACE: 0x7d,
  LBRACKET: 0x5b,
  RBRACKET: 0x5d,
  COMMA: 0x2c,
  COLON: 0x3a,
  NEWLINE: 0x0a,
  MINUS: 0x2d,
  DIGIT_0: 0x30,
  DIGIT_9: 0x39,
  /** “ ” ‘ ’: typographic quotes, which models and word processors write as JSON delimiters. */
  LEFT_DOUBLE: 0x201c,
  RIGHT_DOUBLE: 0x201d,
  LEFT_SINGLE: 0x2018,
  RIGHT_SINGLE: 0x2019,
} as const;

/**
 * Which family a quote character belongs to: 0 the JSON quote `"`, 1 typographic double (“ ”), 2 single-like
 * (`'` ‘ ’); -1 for any other character. A string opened by one family is closed only by the same family.
 */
export function quoteFamily(code: number): -1 | 0 | 1 | 2 {
  switch (code) {
    case CHAR.QUOTE:
      return 0;
    case CHAR.LEFT_DOUBLE:
    case CHAR.RIGHT_DOUBLE:
      return 1;
    case CHAR.APOSTROPHE:
    case CHAR.LEFT_SINGLE:
    case CHAR.RIGHT_SINGLE:
      return 2;
    default:
      return -1;
  }
}

/** Whether `code` can close a string opened by a quote of `family` (a `"` also closes a typographic one). */
export function closesFamily(family: 0 | 1 | 2, code: number): boolean {
  const other = quoteFamily(code);
  return other === family || (family === 1 && other === 0);
}

/** Whether `code` is one of the six characters `quoteFamily` knows (`"` “ ” ' ‘ ’): any of them may open a string. */
export function isQuoteChar(code: number): boolean {
  return quoteFamily(code) >= 0;
}
