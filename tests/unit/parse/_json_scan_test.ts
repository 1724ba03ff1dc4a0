import assert from "node:assert/strict";
import { closesString, endsLikeClosedDocument, scanStructure } from "../../../shared/parse/_json_scan.ts";

const doc = (turns: string) => `{"conversation_metadata": {"client_persona": "A - B"}, "turns": [${turns}]}`;
// Like real turns, these end in a non-string value (real ones end in the emotional context object).
const turn = (n: number) => `{"turn_number": ${n}, "role": "user", "content": "hi", "n": ${n}}`;

Deno.test("scanStructure() finds the end of valid JSON and counts the root turns", () => {
  const text = doc([turn(1), turn(2), turn(3)].join(", ")) + "\n\nThanks!";
  const scan = scanStructure(text, 0);
  assert.equal(scan.end, text.indexOf("\n\nThanks"));
  assert.equal(scan.turnSpans.length, 3);
  assert.deepEqual(scan.turnSpans.map(([start, end]) => text.slice(start, end)), [turn(1), turn(2), turn(3)]);
  assert.equal(scan.cut, null);
  assert.equal(scan.openAtEnd, null);
});

Deno.test("scanStructure() keeps inner quotes inside a string unless a delimiter follows", () => {
  const cases: { name: string; content: string; closesRoot: boolean }[] = [
    { name: "word after quote", content: 'I feel "left out" when friends go', closesRoot: true },
    { name: "quote before punctuation", content: 'He said "no." and left', closesRoot: true },
    { name: "colon inside quotes", content: 'She said "wait: what?" then paused', closesRoot: true },
    { name: "braces inside quotes", content: 'the "{weird}" bit', closesRoot: true },
  ];
  for (const { name, content, closesRoot } of cases) {
    const text = `{"turns": [{"content": "${content}"}], "x": 1}`;
    const scan = scanStructure(text, 0);
    assert.equal(scan.end === text.length, closesRoot, name);
    assert.equal(scan.turnSpans.length, 1, name);
  }
});

Deno.test("scanStructure() treats a quote, a line break and another quote as a missing comma", () => {
  const text = '{"a": "x"\n  "turns": [{"b": 1}]}';
  const scan = scanStructure(text, 0);
  assert.equal(scan.end, text.length);
  assert.equal(scan.turnSpans.length, 1);
});

Deno.test("scanStructure() cuts an unclosed document back to the last complete member", () => {
  const metadata = '{"conversation_metadata": {"client_persona": "A - B"}';
  const cases: {
    name: string;
    text: string;
    kept: string;
    closers: string;
    dropped: string | null;
    turns: number;
  }[] = [
    {
      name: "inside the second turn's string",
      text: `${metadata}, "turns": [${turn(1)}, {"turn_number": 2, "content": "hel`,
      kept: `${metadata}, "turns": [${turn(1)}`,
      closers: "]}",
      dropped: "turns[1]",
      turns: 1,
    },
    {
      name: "right after a complete turn",
      text: `${metadata}, "turns": [${turn(1)}`,
      kept: `${metadata}, "turns": [${turn(1)}`,
      closers: "]}",
      dropped: null,
      turns: 1,
    },
    {
      // `"…"}` at the very end may be an inner quote and a brace inside the string (`Use the {"name"}…`).
      name: "right after a turn whose last value is a string",
      text: `${metadata}, "turns": [${turn(1)}, {"turn_number": 2, "content": "hi"}`,
      kept: `${metadata}, "turns": [${turn(1)}`,
      closers: "]}",
      dropped: "turns[1]",
      turns: 1,
    },
    {
      name: "after a comma between turns",
      text: `${metadata}, "turns": [${turn(1)}, `,
      kept: `${metadata}, "turns": [${turn(1)}`,
      closers: "]}",
      dropped: null,
      turns: 1,
    },
    {
      name: "inside a number of the first turn",
      text: `${metadata}, "turns": [{"turn_number": 1, "intensity": 0.8`,
      kept: `${metadata}, "turns": [`,
      closers: "]}",
      dropped: "turns[0]",
      turns: 0,
    },
    {
      name: "inside the turns key",
      text: `${metadata}, "tur`,
      kept: metadata,
      closers: "}",
      dropped: "an unknown member",
      turns: 0,
    },
    {
      name: "inside the metadata",
      text: '{"conversation_metadata": {"client_persona": "A - ',
      kept: "{",
      closers: "}",
      dropped: "conversation_metadata",
      turns: 0,
    },
  ];
  for (const { name, text, kept, closers, dropped, turns } of cases) {
    const scan = scanStructure(text, 0);
    assert.equal(scan.end, -1, name);
    assert.ok(scan.cut !== null, name);
    assert.equal(text.slice(0, scan.cut.at), kept, name);
    assert.equal(scan.cut.closers, closers, name);
    assert.equal(scan.cut.dropped, dropped, name);
    assert.equal(scan.turnSpans.length, turns, name);
    assert.doesNotThrow(() => JSON.parse(kept + closers), name);
  }
});

Deno.test("scanStructure() reports what was open at the end", () => {
  const scan = scanStructure('{"turns": [{"content": "cut', 0);
  assert.deepEqual(scan.openAtEnd, { inString: true, brackets: "{[{" });
});

Deno.test("scanStructure() lists zero-width characters next to structure, never those between emoji", () => {
  const family = "👨\u200d👩\u200d👧";
  const text = `{\u200b"a": "x",\u2060 "b": 1 ${family}}`;
  const scan = scanStructure(text, 0);
  assert.deepEqual(scan.zeroWidth.map((index) => text.charCodeAt(index)), [0x200b, 0x2060]);
});

Deno.test("scanStructure() ignores zero-width characters inside strings", () => {
  const text = '{"a": "👨\u200d👩\u200d👧 \u200b"}';
  assert.deepEqual(scanStructure(text, 0).zeroWidth, []);
});

Deno.test("scanStructure() lists backslashes that start no JSON escape", () => {
  const cases: { escape: string; stray: boolean }[] = [
    { escape: "\\n", stray: false },
    { escape: '\\"', stray: false },
    { escape: "\\\\", stray: false },
    { escape: "\\u00e9", stray: false },
    { escape: "\\'", stray: false },
    { escape: "\\U", stray: true },
    { escape: "\\p", stray: true },
    { escape: "\\u12", stray: true },
  ];
  for (const { escape, stray } of cases) {
    const text = `{"a": "C:${escape}x"}`;
    assert.deepEqual(scanStructure(text, 0).strayBackslashes, stray ? [text.indexOf("\\")] : [], escape);
  }
});

// Speed is the bench's (bench/parse_worst.bench.ts, "10 MiB of inner quotes"); this checks the result at a size
// where a quadratic scan would not finish (400,000² steps), with no clock in the test.
Deno.test("scanStructure() reads 400,000 pathological inner quotes in one pass, each found once", () => {
  const n = 400_000;
  const scan = scanStructure('{"a": "' + '" '.repeat(n) + '"}', 0);
  assert.equal(scan.innerQuotes.length, n);
  assert.equal(scan.end, 7 + 2 * n + 2);
  assert.equal(scan.cut, null);
});

Deno.test("closesString() ends a string only where the JSON grammar can continue", () => {
  // `at` marks the quote being judged; depth 3 is a turn's member inside the root's turns array.
  const cases: { text: string; role: "key" | "member_value" | "element"; depth?: number; closes: boolean }[] =
    [
      // a value in an object
      { text: '"x"@, "role": "user"', role: "member_value", closes: true },
      { text: '"x"@,\n      "emotional_context": {', role: "member_value", closes: true },
      { text: '"x"@, "role": user', role: "member_value", closes: true }, // a damaged value
      { text: '"x"@, "speaker": "client"', role: "member_value", closes: true }, // an unknown member
      { text: '"x"@, "really": I mean', role: "member_value", closes: true }, // prose, but reads as a member
      { text: '"x"@, "a\\"b": 1', role: "member_value", closes: true }, // an escaped quote in the name
      { text: '"x"@, "hold\non": 1', role: "member_value", closes: false }, // a raw line break: prose
      { text: '"max it out"@, they mean', role: "member_value", closes: false },
      { text: '"snowball"@, which', role: "member_value", closes: false },
      { text: '"low"@, "medium" or "high"', role: "member_value", closes: false },
      { text: '"x"@,\n  }', role: "member_value", closes: true }, // trailing comma
      { text: '"x"@,', role: "member_value", closes: true }, // cut after the comma
      { text: '"x"@, "emot', role: "member_value", closes: true }, // cut inside the next name
      { text: '"note: "x"@: y"', role: "member_value", closes: false },
      { text: '"x"@\n  }\n]', role: "member_value", closes: true },
      { text: '"the {"name"@} field"', role: "member_value", closes: false },
      { text: '"x"@}', role: "member_value", depth: 1, closes: true }, // the root closes: the document is complete
      { text: '"x"@}\n\nLet me know', role: "member_value", depth: 1, closes: true },
      { text: '"x"@\n  "role": "user"', role: "member_value", closes: true }, // missing comma
      { text: '"He said:\n"@hello" there"', role: "member_value", closes: false },
      { text: '"x"@ "role": "user"', role: "member_value", closes: false }, // same line: prose
      { text: '"free money"@"', role: "member_value", closes: false },
      { text: '"x"@', role: "member_value", closes: true }, // the text ended
      // an element of an array
      { text: '"a"@, "b"', role: "element", closes: true },
      { text: '"a"@, 2', role: "element", closes: true },
      { text: '"a"@, null]', role: "element", closes: true },
      { text: '"a"@, nothing', role: "element", closes: false },
      { text: '"a"@]}', role: "element", closes: true },
      { text: '"a"@]', role: "element", closes: false }, // a closer at the end of a cut text proves nothing
      { text: '"x"@}', role: "member_value", closes: false },
      { text: '"a"@: b', role: "element", closes: false },
      // a key: any delimiter, as before
      { text: '"role"@: "user"', role: "key", closes: true },
      { text: '"ro"@le": "user"', role: "key", closes: false },
    ];
  for (const { text: marked, role, depth, closes } of cases) {
    const at = marked.indexOf("@") - 1;
    const text = marked.replace("@", "");
    assert.equal(closesString(text, at, role, depth ?? 3), closes, JSON.stringify(marked));
  }
});

Deno.test("scanStructure() lists the inner quotes and counts property names", () => {
  const text = '{"turns": [{"content": "say "max it out", they mean", "n": 1}], "x": {"y": "a "b" c"}}';
  const scan = scanStructure(text, 0);
  assert.equal(scan.end, text.length);
  assert.deepEqual(scan.innerQuotes.map((index) => text.slice(index - 3, index + 2)), [
    'ay "m',
    'out",',
    '"a "b',
    ' "b" ',
  ]);
  assert.equal(scan.keyCount, 5);
  assert.equal(scan.turnSpans.length, 1);
});

Deno.test("endsLikeClosedDocument() tells unresolved quoting in a finished document from a cut text", () => {
  const cases: { text: string; closed: boolean }[] = [
    { text: '{"turns": [{"content": "a "b" c}]}', closed: true }, // the closing quote is missing
    { text: '{"turns": [{"content": "a "b" c}]}\n', closed: true },
    { text: '{"m": {"x": "Use the {"name"}', closed: false }, // cut inside the string
    { text: '{"turns": [{"content": "a "b" c', closed: false }, // cut, no closer at all
    { text: '{"turns": [{"content": "a"}]}', closed: false }, // not inside a string
  ];
  for (const { text, closed } of cases) {
    assert.equal(endsLikeClosedDocument(text, scanStructure(text, 0)), closed, text);
  }
});
