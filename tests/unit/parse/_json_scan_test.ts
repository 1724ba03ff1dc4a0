import assert from "node:assert/strict";
import { scanStructure } from "../../../shared/parse/_json_scan.ts";

const doc = (turns: string) => `{"conversation_metadata": {"client_persona": "A - B"}, "turns": [${turns}]}`;
const turn = (n: number) => `{"turn_number": ${n}, "role": "user", "content": "hi"}`;

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

Deno.test("scanStructure() stays linear on pathological quoting", () => {
  const text = '{"a": "' + '" '.repeat(200_000) + '"}';
  const started = performance.now();
  scanStructure(text, 0);
  assert.ok(performance.now() - started < 500, "took too long");
});
