/**
 * A lenient one-pass scan of JSON-like text: where the root value ends, what was still open when the text ran
 * out, where the last complete member or turn ends, and which characters outside strings are noise.
 *
 * Why our own scanner: jsonrepair closes cut-off documents silently, so "repaired" never tells us whether the
 * model finished. This scan answers that question from the text itself, and it tolerates the damage seen in
 * practice (unescaped inner quotes, raw newlines, trailing commas) instead of stopping at the first error.
 *
 * String ends are decided by the JSON grammar, not by the next character alone: a quote closes a string only
 * when what follows is a legal continuation for a string in that place (`closesString`). After a value in an
 * object that is `}`, or `,` and then a key (`"name":`); in an array, `]`, or `,` and then a value; after a
 * key, `:`. So in `"I feel "left out" when"`, `"max it out", they mean` and `"note: "x": y"` the inner quotes
 * stay inside the string, and the repair step escapes them (shared/parse/escape_inner_quotes.ts). On valid
 * JSON this rule agrees with JSON.parse exactly: an escaped quote is never a candidate, and every real
 * closing quote is followed by a legal continuation.
 *
 * used by: shared/parse/extract.ts (where the JSON is), shared/parse/repair.ts (was it closed, where to cut).
 */
import { CHAR, closesFamily, isQuoteChar, quoteFamily } from "./_chars.ts";

const {
  QUOTE,
  BACKSLASH,
  LBRACE,
  RBRACE,
  LBRACKET,
  RBRACKET,
  COMMA,
  COLON,
  NEWLINE,
  MINUS,
  DIGIT_0,
  DIGIT_9,
} = CHAR;

/**
 * Characters that JSON.parse rejects between tokens and that models and editors leave in text: zero-width
 * space, non-joiner, joiner, word joiner, and the byte order mark (zero-width no-break space).
 */
export const ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff";

/** Whether `code` is one of the five characters of `ZERO_WIDTH`: invisible, yet JSON.parse rejects them. */
export function isZeroWidth(code: number): boolean {
  return code === 0x200b || code === 0x200c || code === 0x200d || code === 0x2060 || code === 0xfeff;
}

/** Whether `code` is whitespace by the JSON grammar: space, LF, CR, tab only (not NBSP or other Unicode spaces). */
export function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Memo of the last search for a comment's end, so a text full of unclosed `/*` or `//` openers (each quote in it
 * looking ahead past one) costs one pass, not one pass per quote: within `[from, found]` of the last search
 * for the same text and the same terminator there is no other terminator.
 */
const commentEndMemo = { text: "", terminator: "", from: -1, found: -1 };

function findFrom(text: string, terminator: string, from: number): number {
  const memo = commentEndMemo;
  if (memo.terminator === terminator && memo.text === text && from >= memo.from) {
    if (memo.found < 0 || from <= memo.found) return memo.found;
  }
  const found = text.indexOf(terminator, from);
  memo.text = text;
  memo.terminator = terminator;
  memo.from = from;
  memo.found = found;
  return found;
}

/**
 * If a JS-style comment (`// …` to the end of the line, `/* … *\/`) starts at `at`, the index just past it (the
 * text's end when it never closes); else -1. Models write them between members and turns; jsonrepair drops them,
 * and so does the engine, outside strings only.
 */
export function commentEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== CHAR.SLASH) return -1;
  const next = text.charCodeAt(at + 1);
  if (next === CHAR.SLASH) {
    const newline = findFrom(text, "\n", at + 2);
    return newline < 0 ? text.length : newline;
  }
  if (next === CHAR.STAR) {
    const close = findFrom(text, "*/", at + 2);
    return close < 0 ? text.length : close + 2;
  }
  return -1;
}

/** Index of the next character that is not JSON whitespace, zero-width or a comment, or `text.length`. */
export function nextSignificant(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === CHAR.SLASH) {
      const end = commentEnd(text, i);
      if (end < 0) return i;
      i = end;
      continue;
    }
    if (!isJsonWhitespace(code) && !isZeroWidth(code)) return i;
    i++;
  }
  return i;
}

function isStructural(code: number): boolean {
  return code === LBRACE || code === RBRACE || code === LBRACKET || code === RBRACKET || code === COMMA ||
    code === COLON || isQuoteChar(code);
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** Whether `text.slice(from, to)` holds a line feed; callers pass a whitespace run, so this stays linear. */
function hasNewline(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    if (text.charCodeAt(k) === NEWLINE) return true;
  }
  return false;
}

/**
 * Whether the backslash at `index` starts a JSON escape. `\'` counts as one: models write it for an apostrophe,
 * and jsonrepair reads it that way.
 */
function startsValidEscape(text: string, index: number): boolean {
  const next = text.charCodeAt(index + 1);
  switch (next) {
    case QUOTE:
    case BACKSLASH:
    case 0x2f: // '/'
    case 0x62: // 'b'
    case 0x66: // 'f'
    case 0x6e: // 'n'
    case 0x72: // 'r'
    case 0x74: // 't'
    case 0x27: // "'"
      return true;
    case 0x75: // 'u'
      for (let k = index + 2; k < index + 6; k++) {
        if (!isHexDigit(text.charCodeAt(k))) return false;
      }
      return true;
    default:
      return false;
  }
}

/**
 * Deepest nesting the engine reads. A conversation nests 4 deep (document, turns, turn, emotional context);
 * V8's JSON.parse and jsonrepair take seconds on megabytes of `[` (3.7 s for 2 MiB here), so deeper text is
 * refused before either runs.
 */
export const MAX_DEPTH = 64;

/**
 * Whether `text` nests brackets deeper than `limit` outside JSON strings (escapes honoured; typographic quotes
 * not: a bracket inside such a string counts, which only errs on the side of refusing). Linear, no allocation.
 */
export function exceedsDepth(text: string, limit: number = MAX_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === LBRACE || code === LBRACKET) {
      if (++depth > limit) return true;
    } else if ((code === RBRACE || code === RBRACKET) && depth > 0) depth--;
  }
  return false;
}

/** Where a string sits: what may follow its closing quote depends on it. */
type StringRole = "key" | "member_value" | "element";

/** Whether a JSON value starts at `at`: a string, object, array, number or literal (or the text ended). */
function startsValue(text: string, at: number): boolean {
  if (at >= text.length) return true;
  const code = text.charCodeAt(at);
  if (isQuoteChar(code) || code === LBRACE || code === LBRACKET || code === MINUS) return true;
  if (code >= DIGIT_0 && code <= DIGIT_9) return true;
  for (const literal of ["true", "false", "null"]) {
    const rest = text.length - at;
    if (rest < literal.length) {
      if (literal.startsWith(text.slice(at))) return true; // cut inside the literal
      continue;
    }
    if (!text.startsWith(literal, at)) continue;
    const after = text.charCodeAt(at + literal.length);
    // `nothing`, `trueish` are words, not literals.
    if (!(after >= 0x61 && after <= 0x7a) && !(after >= 0x41 && after <= 0x5a) && after !== 0x5f) return true;
  }
  return false;
}

/**
 * Whether the quote at `at` opens a property name: a quoted name on one line, then `:`. Text that ends first
 * counts as a name: the cut decides what is kept. Linear overall: the look-ahead stops at the next quote, where
 * the next look-ahead (if any) starts.
 *
 * Any name counts, not only the schema's: an unknown member (`"speaker": "client"`) read as prose would vanish
 * into the string before it, and the conversation could then validate with that string altered. Read as a
 * member, it fails the schema instead (no extra properties), which sends the response to review. For the same
 * reason the value after the colon is not checked. The price: prose such as `I said "no", "really": I mean it`
 * fails, where a reading could have parsed it.
 */
function isKeyAt(text: string, at: number): boolean {
  const family = quoteFamily(text.charCodeAt(at));
  if (family < 0) return false;
  let close = at + 1;
  while (close < text.length) {
    const code = text.charCodeAt(close);
    if (closesFamily(family as 0 | 1 | 2, code)) break;
    // A raw line break or control character cannot be in a name: this is prose (or damage).
    if (code < 0x20) return false;
    close += code === BACKSLASH ? 2 : 1;
  }
  if (close >= text.length) return true;
  const colon = nextSignificant(text, close + 1);
  return colon >= text.length || text.charCodeAt(colon) === COLON;
}

/**
 * After a closing bracket that a string's quote would be followed by: the bracket is structure only if what
 * comes next can follow a value (`,` `}` `]`, or `"`/`{` of a member or turn whose comma is missing).
 * `the {"name"} field` keeps its quotes. The end of the text proves nothing: a response cut right after
 * `{"name"}` must not turn the rest of its string into a closed object, so the string stays open (and its member
 * is dropped with the cut). Inside a document no closer ends the text; the root's own closer is not judged here.
 */
function followsCloser(text: string, closer: number): boolean {
  const after = nextSignificant(text, closer + 1);
  if (after >= text.length) return false;
  const code = text.charCodeAt(after);
  return code === COMMA || code === RBRACE || code === RBRACKET || isQuoteChar(code) || code === LBRACE;
}

const BARE_KEY = /[A-Za-z_$][\w$]*[ \t]*:/y;

/** An unquoted property name and its colon at `at` (`turn_number: 1`): jsonrepair reads these, so does the scan. */
function isBareKeyAt(text: string, at: number): boolean {
  BARE_KEY.lastIndex = at;
  return BARE_KEY.test(text);
}

/**
 * Whether the unescaped quote at `quote`, inside a string in the given role, ends that string. Each rule is the
 * JSON grammar's continuation for that place; anything else makes the quote an inner quote the model forgot to
 * escape. `depth` is the number of open brackets around the string (1: the root object).
 */
export function closesString(text: string, quote: number, role: StringRole, depth: number): boolean {
  const next = nextSignificant(text, quote + 1);
  // The text ended: the string ends here as far as anyone can tell; the cut keeps only complete members.
  if (next >= text.length) return true;
  const code = text.charCodeAt(next);
  if (role === "key") {
    // Keys hold no quotes in practice: the lenient rule (any delimiter) keeps damaged keys readable.
    return code === COLON || code === COMMA || code === RBRACE || code === RBRACKET ||
      (isQuoteChar(code) && hasNewline(text, quote + 1, next));
  }
  switch (code) {
    case RBRACE:
    case RBRACKET:
      // Lenient about which closer, as the scan is; strict about what follows it, unless it closes the root.
      return depth === 1 || followsCloser(text, next);
    case COMMA: {
      const after = nextSignificant(text, next + 1);
      if (after >= text.length) return true;
      const following = text.charCodeAt(after);
      if (following === RBRACE || following === RBRACKET) return true; // a trailing comma
      // `"max it out", they mean`: a word after the comma, so the quote was inside the string. An unquoted name
      // and its colon (`, role: `) is a member, as jsonrepair reads it.
      return role === "member_value"
        ? (isQuoteChar(following) && isKeyAt(text, after)) || isBareKeyAt(text, after)
        : startsValue(text, after);
    }
    default:
      if (isQuoteChar(code)) {
        // A missing comma: the next member or element starts on a later line.
        return hasNewline(text, quote + 1, next) && (role === "element" || isKeyAt(text, next));
      }
      // `:` after a value, a word, punctuation: not JSON, so the quote is the model's.
      return false;
  }
}

/**
 * Whether `text`, whose scan ended inside a string, still ends the way a complete document does: with a run of
 * closing brackets long enough to close everything the scan had open. That is a finished response whose quoting
 * the grammar could not resolve (a closing quote missing, say), not a cut one: a cut right after `{"name"}` in a
 * string ends with fewer closers than there are open brackets.
 */
export function endsLikeClosedDocument(text: string, scan: StructureScan): boolean {
  if (scan.openAtEnd === null || !scan.openAtEnd.inString) return false;
  let closers = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(i);
    if (code === RBRACE || code === RBRACKET) closers++;
    else if (!isJsonWhitespace(code) && !isZeroWidth(code)) break;
  }
  return closers > 0 && closers >= scan.openAtEnd.brackets.length;
}

/** Where to cut an unclosed document so that only complete members remain, and the brackets that close it. */
export interface CutPoint {
  /** Keep `text.slice(0, at)`. */
  readonly at: number;
  /** Append these to close what is open at `at`. */
  readonly closers: string;
  /** Path of the unfinished member that the cut drops (e.g. `turns[4]`), or null if nothing was started. */
  readonly dropped: string | null;
}

export interface StructureScan {
  /** Index just past the root's closing bracket, or -1 when the text ended with structures still open. */
  readonly end: number;
  /** When `end` is -1: whether the text ended inside a string, and the brackets still open, outermost first. */
  readonly openAtEnd: { readonly inString: boolean; readonly brackets: string } | null;
  /** When `end` is -1: the cut that keeps only complete members. */
  readonly cut: CutPoint | null;
  /**
   * `[start, end)` of each complete bracketed element of the root object's `turns` array, in order (up to the
   * cut when unclosed). Lets the repair step handle one turn at a time.
   */
  readonly turnSpans: readonly (readonly [number, number])[];
  /** Indexes of zero-width characters outside strings that touch JSON structure (safe to remove). */
  readonly zeroWidth: readonly number[];
  /** `[start, end)` of each comment outside strings (safe to remove). */
  readonly comments: readonly (readonly [number, number])[];
  /** Indexes of quotes other than `"` that open or close a string (typographic or single): read as `"`. */
  readonly delimiters: readonly number[];
  /** Indexes of backslashes inside strings that start no valid escape. */
  readonly strayBackslashes: readonly number[];
  /** Indexes of unescaped quotes inside strings that do not end them (`closesString`): the model's own quotes. */
  readonly innerQuotes: readonly number[];
  /**
   * How many property names (a key string followed by `:`) the scanned text holds. After a repair the parsed
   * value must hold as many properties: JSON.parse keeps only the last of two equal names in one object, so
   * fewer means a reading that would silently drop something the model wrote.
   */
  readonly keyCount: number;
}

/** Whether anything but whitespace and separating commas follows `from`: the start of a dropped member. */
function startsMore(text: string, from: number): boolean {
  for (let i = nextSignificant(text, from); i < text.length; i = nextSignificant(text, i + 1)) {
    if (text.charCodeAt(i) !== COMMA) return true;
  }
  return false;
}

const KNOWN_ROOT_KEYS = new Set(["conversation_metadata", "turns"]);

/** Scan from `start`, the index of the root `{` or `[`. Linear in the length of the text. */
export function scanStructure(text: string, start: number): StructureScan {
  const length = text.length;
  const stack: number[] = [];
  const zeroWidth: number[] = [];
  const strayBackslashes: number[] = [];
  const innerQuotes: number[] = [];
  const comments: [number, number][] = [];
  const delimiters: number[] = [];
  let keyCount = 0;
  let inString = false;
  let family: 0 | 1 | 2 = 0; // the quote family that opened the current string
  let stringStart = -1;
  let role: StringRole = "key";
  let previous = -1; // last significant character outside strings; -1 at the start
  let rootKey: string | null = null; // key of the root member being read
  let inTurns = false; // inside the root object's "turns" array
  let turnsOpenAt = -1;
  let turnStart = -1;
  let turnSpans: [number, number][] = [];
  let lastMemberEnd = -1;

  for (let i = start; i < length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) {
        if (i + 1 < length && !startsValidEscape(text, i)) strayBackslashes.push(i);
        i++; // the escaped character cannot end the string
      } else if (code === QUOTE || (family !== 0 && isQuoteChar(code))) {
        if (!closesFamily(family, code) || !closesString(text, i, role, stack.length)) {
          // Not the end: the model's own quote. A `"` needs a backslash once the delimiters are `"`.
          if (code === QUOTE) innerQuotes.push(i);
        } else {
          inString = false;
          previous = QUOTE;
          if (code !== QUOTE) delimiters.push(i);
          if (role === "key") {
            const next = nextSignificant(text, i + 1);
            if (next < length && text.charCodeAt(next) === COLON) {
              keyCount++;
              if (stack.length === 1) rootKey = text.slice(stringStart + 1, i);
            }
          }
        }
      }
      continue;
    }
    const opens = quoteFamily(code);
    if (opens > 0) {
      // A typographic or single quote outside a string can only be a delimiter: read it as `"`.
      delimiters.push(i);
      family = opens as 1 | 2;
    } else if (opens === 0) family = 0;
    if (code === CHAR.SLASH) {
      const end = commentEnd(text, i);
      if (end >= 0) {
        comments.push([i, end]);
        i = end - 1;
        continue;
      }
    }
    switch (opens >= 0 ? QUOTE : code) {
      case QUOTE:
        inString = true;
        stringStart = i;
        // In an object a string is a value only right after `:`; anything else (after `{`, `,`, or a value
        // whose comma is missing) starts a key.
        role = stack[stack.length - 1] === LBRACKET ? "element" : previous === COLON ? "member_value" : "key";
        break;
      case LBRACE:
      case LBRACKET:
        stack.push(code);
        if (code === LBRACKET && stack.length === 2 && stack[0] === LBRACE && rootKey === "turns") {
          inTurns = true;
          turnsOpenAt = i + 1;
          turnSpans = [];
        } else if (stack.length === 3 && inTurns) {
          turnStart = i;
        }
        break;
      case RBRACE:
      case RBRACKET:
        // Lenient: a mismatched closer still closes the innermost bracket; jsonrepair sorts the rest out.
        stack.pop();
        if (stack.length === 0) {
          return {
            end: i + 1,
            openAtEnd: null,
            cut: null,
            turnSpans,
            zeroWidth,
            comments,
            delimiters,
            strayBackslashes,
            innerQuotes,
            keyCount,
          };
        }
        if (stack.length === 2 && inTurns && turnStart >= 0) {
          turnSpans.push([turnStart, i + 1]);
          turnStart = -1;
        } else if (stack.length === 1) {
          inTurns = false;
          lastMemberEnd = i + 1;
          rootKey = null;
        }
        break;
      case COMMA:
        if (stack.length === 1) {
          lastMemberEnd = i;
          rootKey = null;
        }
        break;
      default:
        if (isZeroWidth(code)) {
          // Only next to structure: a zero-width joiner between emoji is content even if quoting went wrong.
          const next = nextSignificant(text, i + 1);
          if (
            previous === -1 || isStructural(previous) || next >= length || isStructural(text.charCodeAt(next))
          ) {
            zeroWidth.push(i);
          }
          continue;
        }
    }
    if (!isJsonWhitespace(code)) previous = code;
  }

  // The text ended first. Cut back to the last complete turn (inside "turns") or the last complete member.
  let cut: CutPoint;
  const rootCloser = stack[0] === LBRACKET ? "]" : "}";
  if (inTurns && stack.length >= 2) {
    const at = turnSpans.length > 0 ? turnSpans[turnSpans.length - 1][1] : turnsOpenAt;
    cut = {
      at,
      closers: "]" + rootCloser,
      dropped: startsMore(text, at) ? `turns[${turnSpans.length}]` : null,
    };
  } else {
    const at = lastMemberEnd >= 0 ? lastMemberEnd : start + 1;
    const name = rootKey !== null && KNOWN_ROOT_KEYS.has(rootKey) ? rootKey : "an unknown member";
    cut = { at, closers: rootCloser, dropped: startsMore(text, at) ? name : null };
  }
  const brackets = stack.map((code) => String.fromCharCode(code)).join("");
  return {
    end: -1,
    openAtEnd: { inString, brackets },
    cut,
    turnSpans,
    zeroWidth,
    comments,
    delimiters,
    strayBackslashes,
    innerQuotes,
    keyCount,
  };
}
