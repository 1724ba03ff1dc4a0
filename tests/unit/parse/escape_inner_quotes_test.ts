import assert from "node:assert/strict";
import { candidateIndex, escapeInnerQuotes } from "../../../shared/parse/escape_inner_quotes.ts";
import { makeConversation, render, seededRandom } from "../../fixtures/parse/samples.ts";

/** A document as a model writes it with unescaped quotes: `\"` written as `"` in the turn's content. */
function turnWith(content: string, pretty: boolean): string {
  const turn = {
    turn_number: 1,
    role: "user",
    content,
    emotional_context: { primary_emotion: "x", intensity: 0.5 },
  };
  return JSON.stringify({ turns: [turn] }, null, pretty ? 2 : undefined).replaceAll('\\"', '"');
}

function contentOf(text: string): unknown {
  return JSON.parse(text).turns[0].content;
}

Deno.test("escapeInnerQuotes() escapes quotes the grammar cannot read as string ends, keeping content exact", () => {
  const contents: { name: string; content: string }[] = [
    { name: "quote, comma, word", content: 'When people say "max it out", they mean the annual limit.' },
    { name: "the snowball", content: 'They call it "the snowball", which sounds silly.' },
    {
      name: "quote then colon-like text",
      content: 'The letter said "note: "pending": call us" at the bottom.',
    },
    { name: "quote then colon then quote", content: 'He said "wait": "stop" and left.' },
    { name: "quote at the start", content: '"Pay yourself first" is what my dad said.' },
    { name: "quote at the end", content: 'Everyone calls it "free money"' },
    { name: "quote and comma at the end", content: 'They call it "the snowball",' },
    { name: "the whole content quoted", content: '"I never open the statements."' },
    { name: "nested quotes", content: 'She told me "he said "wait", so I waited" and I did.' },
    { name: "a list of quoted words", content: 'Pick "low", "medium" or "high" risk.' },
    { name: "a quoted word then a number", content: 'Rate it "one", 2 or 3.' },
    { name: "a quoted word before a closing brace", content: 'Use the {"name"} placeholder.' },
    { name: "a lone quote", content: '"' },
    { name: "a quote, a comma and a line break", content: 'He said "no",\nand then he left.' },
  ];
  for (const { name, content } of contents) {
    for (const pretty of [true, false]) {
      const candidate = turnWith(content, pretty);
      const result = escapeInnerQuotes(candidate);
      console.log(name, result.text);
      assert.equal(contentOf(result.text), content, `${name} (${pretty ? "pretty" : "compact"})`);
      assert.equal(result.escaped.length, content.split('"').length - 1, name);
      assert.equal(result.fixes.length, 1, name);
      assert.equal(result.fixes[0].code, "escape_inner_quote", name);
    }
  }
});

Deno.test('escapeInnerQuotes() reads `"name": value` after a comma as the next member', () => {
  // An unknown member is structure, not content: swallowing it could hide an extra property in a string.
  const unknown = escapeInnerQuotes('{"content": "He said "hi" there", "speaker": "client"}');
  assert.deepEqual(JSON.parse(unknown.text), { content: 'He said "hi" there', speaker: "client" });
  // Whatever follows the colon: a damaged value, or prose that happens to look like a member.
  const damaged = escapeInnerQuotes('{"content": "He said "hi" there", "role": user}');
  assert.equal(damaged.text, '{"content": "He said \\"hi\\" there", "role": user}');
  const prose = escapeInnerQuotes('{"content": "I said "no", "really": 1}');
  assert.deepEqual(JSON.parse(prose.text), { content: 'I said "no', really: 1 });
  // Inside an array, any value may follow a comma.
  const array = escapeInnerQuotes('{"tags": ["a "b" c", "d"]}');
  assert.deepEqual(JSON.parse(array.text), { tags: ['a "b" c', "d"] });
});

Deno.test("escapeInnerQuotes() leaves valid JSON exactly as it is", () => {
  const random = seededRandom(42);
  const pieces = ['"', ",", ":", " ", "}", "]", "{", "[", "\\", "\n", "word", '", "role": "', "é", "👨‍👩‍👧"];
  for (let k = 0; k < 300; k++) {
    let content = "";
    for (let n = 0; n < 12; n++) content += pieces[Math.floor(random() * pieces.length)];
    const text = JSON.stringify(
      { turns: [{ content, n: [1, { x: content }] }], z: content },
      null,
      k % 2 ? 2 : 0,
    );
    const result = escapeInnerQuotes(text);
    assert.equal(result.text, text, JSON.stringify(content));
    assert.deepEqual(result.fixes, []);
  }
  for (const seed of [1, 2, 3]) {
    const text = render(makeConversation(seed, { turns: 6 }), seed % 2 === 0).text;
    assert.equal(escapeInnerQuotes(text).text, text);
  }
});

Deno.test("escapeInnerQuotes() restores prose quoting exactly (random sentences)", () => {
  // Quotes as prose uses them: around words, before punctuation and commas, nested, at either end.
  const random = seededRandom(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const words = [
    "max it out",
    "the snowball",
    "free money",
    "no",
    "wait",
    "note: pending",
    "50/30/20",
    "Roth",
  ];
  const after = [",", ", which", ".", "!", "?", ": yes", " and", ";", ")", " —", ', "then" later', "'s"];
  for (let k = 0; k < 500; k++) {
    const parts: string[] = [];
    const count = 1 + Math.floor(random() * 4);
    for (let n = 0; n < count; n++) {
      parts.push(`${pick(["", "(", "He said ", "so "])}"${pick(words)}"${pick(after)}`);
    }
    // Joined with words: `", "name":` would be a member by the grammar, not prose.
    const content = parts.join(" and ");
    const result = escapeInnerQuotes(turnWith(content, k % 2 === 0));
    assert.equal(contentOf(result.text), content, content);
  }
});

Deno.test("escapeInnerQuotes() reports the count and the first position through positionOf", () => {
  const candidate = '{"content": "a "b", c "d" e"}';
  const result = escapeInnerQuotes(candidate, (index) => index + 1000);
  assert.deepEqual(result.escaped, [15, 17, 22, 24]);
  assert.deepEqual(result.fixes, [{
    step: "repair",
    code: "escape_inner_quote",
    detail: "4 quotes, the first at position 1015",
  }]);
});

Deno.test("escapeInnerQuotes() hands on a reading it cannot confirm unchanged", () => {
  // Ends on a closing brace while the scan sits inside a string: no consistent reading.
  // The closing quote is missing: the scan ends inside the string, yet the text ends on a closing brace.
  const candidate = '{"x": {"content": "a "b" c}}';
  assert.deepEqual(escapeInnerQuotes(candidate), { text: candidate, escaped: [], fixes: [] });
  assert.deepEqual(escapeInnerQuotes("no brackets"), { text: "no brackets", escaped: [], fixes: [] });
});

Deno.test("escapeInnerQuotes() escapes inside a document that was cut off", () => {
  const result = escapeInnerQuotes('{"turns": [{"content": "say "max it out", they mean');
  assert.equal(result.text, '{"turns": [{"content": "say \\"max it out\\", they mean');
});

Deno.test("candidateIndex() maps an index in the escaped text back to the candidate", () => {
  const candidate = '{"a": "x "y" z"}';
  const result = escapeInnerQuotes(candidate);
  assert.equal(result.text, '{"a": "x \\"y\\" z"}');
  for (const [textIndex, expected] of [[0, 0], [9, 9], [10, 9], [11, 10], [13, 11], [14, 12], [18, 16]]) {
    assert.equal(candidateIndex(result, textIndex), expected, `index ${textIndex}`);
  }
  for (let i = 0; i < candidate.length; i++) {
    const shifted = i + result.escaped.filter((index) => index < i).length +
      (result.escaped.includes(i) ? 1 : 0);
    assert.equal(result.text[shifted], candidate[i], `character ${i}`);
    assert.equal(candidateIndex(result, shifted), i);
  }
});

// Speed is the bench's (bench/parse_worst.bench.ts, "10 MiB of inner quotes"); this checks the result at a size
// where a quadratic pass would not finish, with no clock in the test.
Deno.test("escapeInnerQuotes() escapes 200,000 pathological inner quotes in one pass", () => {
  const n = 200_000;
  const result = escapeInnerQuotes('{"a": "' + '", x '.repeat(n) + '"}');
  assert.equal(result.escaped.length, n);
});
