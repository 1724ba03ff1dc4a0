import assert from "node:assert/strict";
import { extractCandidate, findObjectStart, textPosition } from "../../../shared/parse/extract.ts";
import type { FixCode } from "../../../shared/parse/result.ts";

const json = '{"turns": [{"content": "hi"}]}';

Deno.test("extractCandidate() removes what surrounds the document and records each removal", () => {
  const cases: { name: string; text: string; fixes: FixCode[] }[] = [
    { name: "a fence with a language tag", text: "```json\n" + json + "\n```", fixes: ["strip_fence"] },
    { name: "a fence without a tag", text: "```\n" + json + "\n```\n", fixes: ["strip_fence"] },
    { name: "a tilde fence", text: "~~~JSON\n" + json + "\n~~~", fixes: ["strip_fence"] },
    { name: "prose before", text: "Here you go:\n\n" + json, fixes: ["strip_prose_before"] },
    { name: "prose after", text: json + "\n\nHope this helps!", fixes: ["strip_prose_after"] },
    {
      name: "prose and a fence",
      text: "Sure:\n```json\n" + json + "\n```\nDone.",
      fixes: ["strip_fence", "strip_prose_before", "strip_prose_after"],
    },
    { name: "a byte order mark", text: "\ufeff" + json, fixes: ["strip_bom"] },
    { name: "zero-width space before", text: "\u200b" + json, fixes: ["strip_zero_width"] },
    { name: "a JSON string layer", text: JSON.stringify(json), fixes: ["decode_string"] },
    {
      name: "braces in the prose before",
      text: "Filled {persona} in:\n" + json,
      fixes: ["strip_prose_before"],
    },
  ];
  for (const { name, text, fixes } of cases) {
    const result = extractCandidate(text);
    assert.ok(result.ok, name);
    assert.equal(result.extraction.candidate, json, name);
    assert.equal(result.extraction.closed, true, name);
    assert.deepEqual(result.fixes.map((fix) => fix.code), fixes, name);
  }
});

Deno.test("extractCandidate() removes zero-width characters between tokens but keeps them in strings", () => {
  const content = "Family 👨\u200d👩\u200d👧 first\u200b";
  const text = `{\u200b"turns":\u2060 [{"content": "${content}"},\u200b\n{"x": 1}]}`;
  const result = extractCandidate(text);
  assert.ok(result.ok);
  assert.equal(result.extraction.candidate, `{"turns": [{"content": "${content}"},\n{"x": 1}]}`);
  assert.equal(JSON.parse(result.extraction.candidate).turns[0].content, content);
  assert.deepEqual(result.fixes, [{ step: "extract", code: "strip_zero_width", detail: "3 characters" }]);
});

Deno.test("extractCandidate() runs an unclosed document to the end of the text, without a closing fence", () => {
  const cut = '{"turns": [{"content": "cut he';
  for (const text of [cut, "```json\n" + cut, "```json\n" + cut + "\n```"]) {
    const result = extractCandidate(text);
    assert.ok(result.ok, text);
    assert.equal(result.extraction.candidate, cut, text);
    assert.equal(result.extraction.closed, false, text);
  }
});

Deno.test("extractCandidate() hands redundant closing brackets to the repair step", () => {
  const result = extractCandidate(json + "\n}]");
  assert.ok(result.ok);
  assert.equal(result.extraction.candidate, json + "\n}]");
});

Deno.test("extractCandidate() fails when more JSON follows the document", () => {
  for (const text of [json + "\n" + json, json + ', "extra": 1}', json + ' "x"']) {
    const result = extractCandidate(text);
    assert.ok(!result.ok, text);
    assert.equal(result.error.code, "invalid_json", text);
    assert.match(
      result.error.message,
      /^Cannot extract JSON: unexpected content after the document at position \d+$/,
    );
  }
});

Deno.test("extractCandidate() fails with no_json when the text holds no object", () => {
  for (
    const text of ["I can't help with that.", "Use {name} here.", "[1, 2]", "{", JSON.stringify("a sentence")]
  ) {
    const result = extractCandidate(text);
    assert.ok(!result.ok, text);
    assert.deepEqual(result.error, {
      code: "no_json",
      message: "Cannot find JSON: the text holds no JSON object",
    });
  }
});

Deno.test("findObjectStart() accepts quoted, single-quoted and bare keys", () => {
  assert.equal(findObjectStart('x {"a": 1}'), 2);
  assert.equal(findObjectStart("x {'a': 1}"), 2);
  assert.equal(findObjectStart("x { a: 1}"), 2);
  assert.equal(findObjectStart("x {a b} {c: 1}"), 8);
  assert.equal(findObjectStart("{}"), -1);
});

Deno.test("textPosition() maps a candidate index back through removed characters", () => {
  const text = 'Here:\n{\u200b"a":\u200b 1 x}';
  const result = extractCandidate(text);
  assert.ok(result.ok);
  const candidate = result.extraction.candidate;
  const x = candidate.indexOf("x");
  assert.equal(text[textPosition(result.extraction, x)], "x");
});
