import assert from "node:assert/strict";
import { describeSyntaxError, findJsonSyntaxError } from "../../../shared/parse/_json_syntax.ts";
import { seededRandom } from "../../fixtures/parse/samples.ts";

Deno.test("findJsonSyntaxError() names the first error with a fixed phrase and its position", () => {
  const cases: { text: string; problem: string; position: number }[] = [
    { text: '{"a": "b', problem: "unterminated string", position: 8 },
    { text: '{"a": 1', problem: "unexpected end of JSON", position: 7 },
    { text: '{"a": tr', problem: "unexpected end of JSON", position: 8 },
    { text: '{"a": 1,}', problem: "trailing comma", position: 8 },
    { text: "[1, 2,]", problem: "trailing comma", position: 6 },
    { text: '{"a": "x\ny"}', problem: "bad control character in string", position: 8 },
    { text: '{"a": "C:\\path"}', problem: "bad escape in string", position: 9 },
    { text: '{"a": "I feel "left out""}', problem: "expected ',' or '}' after property value", position: 15 },
    { text: "[1 2]", problem: "expected ',' or ']' after array element", position: 3 },
    { text: '{"a" 1}', problem: "expected ':' after property name", position: 5 },
    { text: "{a: 1}", problem: "expected property name", position: 1 },
    { text: '{"a": 1} x', problem: "unexpected content after JSON", position: 9 },
    { text: "{\u200b}", problem: "expected property name", position: 1 },
    { text: '{"a": -}', problem: "bad number", position: 6 },
    { text: '{"a": }', problem: "unexpected character", position: 6 },
    { text: "", problem: "unexpected end of JSON", position: 0 },
  ];
  for (const { text, problem, position } of cases) {
    assert.deepEqual(findJsonSyntaxError(text), { problem, position }, JSON.stringify(text));
  }
});

Deno.test("findJsonSyntaxError() accepts exactly what JSON.parse accepts", () => {
  const random = seededRandom(42);
  const seeds = [
    '{"a": [1, 2.5e-3, -0, true, false, null, "x\\u00e9\\n"], "b": {"c": {}}, "d": []}',
    '  [ {"k": "v"} , "\\"quoted\\"" ]  ',
    '"just a string"',
  ];
  const alphabet = ['"', "{", "}", "[", "]", ",", ":", " ", "\\", "a", "1", ".", "e", "-", "\n"];
  for (let i = 0; i < 3000; i++) {
    const chars = [...seeds[i % seeds.length]];
    const edits = 1 + Math.floor(random() * 3);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * chars.length);
      const kind = random();
      if (kind < 0.33) chars.splice(at, 1);
      else if (kind < 0.66) chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]);
      else chars[at] = alphabet[Math.floor(random() * alphabet.length)];
    }
    const text = chars.join("");
    let valid = true;
    try {
      JSON.parse(text);
    } catch {
      valid = false;
    }
    assert.equal(findJsonSyntaxError(text) === null, valid, JSON.stringify(text));
  }
});

Deno.test("findJsonSyntaxError() handles deep nesting without recursion", () => {
  const depth = 100_000;
  assert.equal(findJsonSyntaxError("[".repeat(depth) + "]".repeat(depth)), null);
  assert.equal(findJsonSyntaxError("[".repeat(depth))?.problem, "unexpected end of JSON");
});

Deno.test("describeSyntaxError() puts the position last so numbers can be grouped away", () => {
  assert.equal(
    describeSyntaxError({ problem: "unterminated string", position: 12 }, 8517),
    "unterminated string at position 8517",
  );
});
