/**
 * Finds the first JSON syntax error and names it without quoting the text.
 *
 * Why not JSON.parse's message: V8 quotes the input around the error (`Unexpected token 'l', ..."I feel "left
 * o"... is not valid JSON`), which puts model output into `parse_error_message` and splits the error-pattern
 * query into one group per response. This checker gives a fixed phrase and a position instead.
 * Iterative (no recursion), so deeply nested input cannot overflow the stack. Runs only on failure paths.
 *
 * used by: shared/parse/repair.ts and shared/parse/chain.ts for `invalid_json` messages and repair fixes.
 */

export interface JsonSyntaxError {
  /** Index in the checked text (UTF-16 code units, like JSON.parse positions). */
  readonly position: number;
  /** A fixed phrase, e.g. "unterminated string". */
  readonly problem: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERALS = ["true", "false", "null"];

function skipWhitespace(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) break;
    i++;
  }
  return i;
}

type Step = number | JsonSyntaxError;

function fail(position: number, problem: string): JsonSyntaxError {
  return { position, problem };
}

/** Returns the index after the closing quote of the string starting at `start`. */
function readString(text: string, start: number): Step {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) return i + 1;
    if (code === BACKSLASH) {
      const next = text.charCodeAt(i + 1);
      if (i + 1 >= text.length) return fail(text.length, "unterminated string");
      if (next === 0x75) {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          return i + 6 > text.length
            ? fail(text.length, "unterminated string")
            : fail(i, "bad escape in string");
        }
        i += 6;
        continue;
      }
      if ('"\\/bfnrt'.indexOf(text[i + 1]) < 0) return fail(i, "bad escape in string");
      i += 2;
      continue;
    }
    if (code < 0x20) return fail(i, "bad control character in string");
    i++;
  }
  return fail(text.length, "unterminated string");
}

/** Reads `"key"` and the colon after it; returns the index where the value starts. */
function readKey(text: string, at: number, afterComma: boolean): Step {
  if (at >= text.length) return fail(at, "unexpected end of JSON");
  const code = text.charCodeAt(at);
  if (code === RBRACE && afterComma) return fail(at, "trailing comma");
  if (code !== QUOTE) return fail(at, "expected property name");
  const end = readString(text, at);
  if (typeof end !== "number") return end;
  const colon = skipWhitespace(text, end);
  if (colon >= text.length) return fail(colon, "unexpected end of JSON");
  if (text.charCodeAt(colon) !== COLON) return fail(colon, "expected ':' after property name");
  return skipWhitespace(text, colon + 1);
}

/** Reads a scalar (string, number, literal) at `at`; returns the index after it. */
function readScalar(text: string, at: number, afterComma: boolean): Step {
  const code = text.charCodeAt(at);
  if (code === QUOTE) return readString(text, at);
  if (code === 0x2d || (code >= 0x30 && code <= 0x39)) {
    NUMBER.lastIndex = at;
    if (NUMBER.test(text)) return NUMBER.lastIndex;
    return at + 1 >= text.length ? fail(text.length, "unexpected end of JSON") : fail(at, "bad number");
  }
  for (const literal of LITERALS) {
    if (text.startsWith(literal, at)) return at + literal.length;
    // A literal cut off by the end of the text ("tr") is an early end, not a bad character.
    if (text.length - at < literal.length && literal.startsWith(text.slice(at))) {
      return fail(text.length, "unexpected end of JSON");
    }
  }
  if ((code === RBRACKET || code === RBRACE) && afterComma) return fail(at, "trailing comma");
  return fail(at, "unexpected character");
}

/** The first syntax error in `text`, or null when JSON.parse would accept it. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const stack: number[] = [];
  let i = skipWhitespace(text, 0);
  let expectValue = true;
  let afterComma = false;
  for (;;) {
    if (expectValue) {
      if (i >= text.length) return fail(i, "unexpected end of JSON");
      const code = text.charCodeAt(i);
      if (code === LBRACE || code === LBRACKET) {
        stack.push(code);
        i = skipWhitespace(text, i + 1);
        const closer = code === LBRACE ? RBRACE : RBRACKET;
        if (i < text.length && text.charCodeAt(i) === closer) {
          stack.pop();
          i++;
          expectValue = false;
        } else if (code === LBRACE) {
          const next = readKey(text, i, false);
          if (typeof next !== "number") return next;
          i = next;
        }
        afterComma = false;
        continue;
      }
      const next = readScalar(text, i, afterComma);
      if (typeof next !== "number") return next;
      i = next;
      expectValue = false;
      afterComma = false;
      continue;
    }
    i = skipWhitespace(text, i);
    if (stack.length === 0) return i < text.length ? fail(i, "unexpected content after JSON") : null;
    if (i >= text.length) return fail(i, "unexpected end of JSON");
    const code = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (code === COMMA) {
      i = skipWhitespace(text, i + 1);
      if (top === LBRACE) {
        const next = readKey(text, i, true);
        if (typeof next !== "number") return next;
        i = next;
      }
      expectValue = true;
      afterComma = true;
      continue;
    }
    if ((top === LBRACE && code === RBRACE) || (top === LBRACKET && code === RBRACKET)) {
      stack.pop();
      i++;
      continue;
    }
    return fail(
      i,
      top === LBRACE ? "expected ',' or '}' after property value" : "expected ',' or ']' after array element",
    );
  }
}

/** "unterminated string at position 8517". */
export function describeSyntaxError(error: JsonSyntaxError, position: number = error.position): string {
  return `${error.problem} at position ${position}`;
}
