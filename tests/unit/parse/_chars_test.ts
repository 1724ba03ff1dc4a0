import assert from "node:assert/strict";
import { CHAR, closesFamily, isQuoteChar, quoteFamily } from "../../../shared/parse/_chars.ts";

Deno.test("CHAR codes are the characters their names say", () => {
  const expected: Record<keyof typeof CHAR, string> = {
    QUOTE: '"',
    APOSTROPHE: "'",
    BACKSLASH: "\\",
    SLASH: "/",
    STAR: "*",
    LBRACE: "{",
    RBRACE: "}",
    LBRACKET: "[",
    RBRACKET: "]",
    COMMA: ",",
    COLON: ":",
    NEWLINE: "\n",
    MINUS: "-",
    DIGIT_0: "0",
    DIGIT_9: "9",
    LEFT_DOUBLE: "“",
    RIGHT_DOUBLE: "”",
    LEFT_SINGLE: "‘",
    RIGHT_SINGLE: "’",
  };
  for (const [name, char] of Object.entries(expected)) {
    assert.equal(CHAR[name as keyof typeof CHAR], char.charCodeAt(0), name);
  }
});

Deno.test("quoteFamily() sorts the six quote characters into three families and nothing else", () => {
  const cases: [string, number][] = [['"', 0], ["“", 1], ["”", 1], ["'", 2], ["‘", 2], ["’", 2], ["`", -1], [
    "«",
    -1,
  ], ["a", -1]];
  for (const [char, family] of cases) assert.equal(quoteFamily(char.charCodeAt(0)), family, char);
});

Deno.test("isQuoteChar() is true for exactly six code points of the BMP", () => {
  let count = 0;
  for (let code = 0; code <= 0xffff; code++) if (isQuoteChar(code)) count++;
  assert.equal(count, 6);
});

Deno.test('closesFamily(): a family closes itself; `"` also closes a typographic string, not the reverse', () => {
  const c = (s: string) => s.charCodeAt(0);
  assert.equal(closesFamily(0, c('"')), true);
  assert.equal(closesFamily(0, c("”")), false, "a JSON string is not closed by a typographic quote");
  assert.equal(closesFamily(1, c("”")), true);
  assert.equal(closesFamily(1, c("“")), true);
  assert.equal(closesFamily(1, c('"')), true, 'models open with “ and close with "');
  assert.equal(closesFamily(1, c("’")), false);
  assert.equal(closesFamily(2, c("’")), true);
  assert.equal(closesFamily(2, c("'")), true);
  assert.equal(closesFamily(2, c('"')), false, 'an apostrophe-quoted string is not closed by "');
  assert.equal(closesFamily(0, c("x")), false);
});
