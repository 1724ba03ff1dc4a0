import assert from "node:assert/strict";
import { repairCandidate } from "../../../shared/parse/repair.ts";

Deno.test("repairCandidate() repairs the damage models produce, keeping every string as written", () => {
  const cases: { name: string; candidate: string; value: unknown }[] = [
    {
      name: "literal newlines",
      candidate: '{"content": "line one\n\nline two"}',
      value: { content: "line one\n\nline two" },
    },
    {
      name: "trailing commas",
      candidate: '{"a": [1, 2,], "b": {"c": 3,},}',
      value: { a: [1, 2], b: { c: 3 } },
    },
    { name: "missing commas", candidate: '{"a": "x"\n"b": "y"}', value: { a: "x", b: "y" } },
    { name: "single quotes", candidate: "{'a': 'b'}", value: { a: "b" } },
    { name: "a redundant closing brace", candidate: '{"a": 1}}', value: { a: 1 } },
    {
      name: "a Windows path",
      candidate: '{"a": "C:\\Users\\zoe\\Docs",}',
      value: { a: "C:\\Users\\zoe\\Docs" },
    },
  ];
  for (const { name, candidate, value } of cases) {
    const result = repairCandidate(candidate);
    assert.ok(result.ok, name);
    assert.deepEqual(result.repair.value, value, name);
    assert.equal(result.repair.unclosed, false, name);
    assert.ok(result.fixes.some((fix) => fix.code === "jsonrepair"), name);
  }
});

Deno.test("repairCandidate() escapes inner quotes before jsonrepair, content exactly as written", () => {
  const cases: { name: string; candidate: string; value: unknown; fixes: string[] }[] = [
    {
      name: "a quoted phrase before a word",
      candidate: '{"content": "I feel "left out" when friends go out.", "n": 1}',
      value: { content: 'I feel "left out" when friends go out.', n: 1 },
      fixes: ["escape_inner_quote"],
    },
    {
      name: "a quoted phrase before a comma and a word",
      candidate: '{"turns": [{"content": "When people say "max it out", they mean the limit.", "n": 1}]}',
      value: { turns: [{ content: 'When people say "max it out", they mean the limit.', n: 1 }] },
      fixes: ["escape_inner_quote"],
    },
    {
      name: "with trailing commas, which jsonrepair then fixes",
      candidate: '{"turns": [{"content": "the "snowball", which",},],}',
      value: { turns: [{ content: 'the "snowball", which' }] },
      fixes: ["escape_inner_quote", "jsonrepair"],
    },
  ];
  for (const { name, candidate, value, fixes } of cases) {
    const result = repairCandidate(candidate);
    assert.ok(result.ok, name);
    assert.deepEqual(result.repair.value, value, name);
    assert.deepEqual(result.fixes.map((fix) => fix.code), fixes, name);
  }
});

Deno.test("repairCandidate() names the first syntax error left after escaping, at its place in the text", () => {
  const result = repairCandidate('{"a": "x "y", z", "b": [1,]}', (index) => index + 100);
  assert.ok(result.ok);
  assert.deepEqual(result.fixes, [
    { step: "repair", code: "escape_inner_quote", detail: "2 quotes, the first at position 109" },
    { step: "repair", code: "jsonrepair", detail: "trailing comma at position 126" },
  ]);
});

Deno.test("repairCandidate() counts only the escaped quotes it keeps when it cuts", () => {
  const text = `{${metadataText}, "turns": [{"content": "a "b" c"}, {"content": "say "max it out", they`;
  const result = repairCandidate(text);
  assert.ok(result.ok);
  assert.equal(result.repair.unclosed, true);
  assert.deepEqual((result.repair.value as { turns: unknown[] }).turns, [{ content: 'a "b" c' }]);
  assert.deepEqual(result.fixes[0], {
    step: "repair",
    code: "escape_inner_quote",
    detail: `2 quotes, the first at position ${text.indexOf('"b"')}`,
  });
});

Deno.test("repairCandidate() records the first syntax error it repaired", () => {
  const result = repairCandidate('{"a": [1, 2,]}', (index) => index + 100);
  assert.ok(result.ok);
  assert.deepEqual(result.fixes, [{
    step: "repair",
    code: "jsonrepair",
    detail: "trailing comma at position 112",
  }]);
});

Deno.test("repairCandidate() records backslashes it kept", () => {
  const result = repairCandidate('{"a": "C:\\path",}');
  assert.ok(result.ok);
  assert.deepEqual(result.fixes[0], { step: "repair", code: "keep_stray_backslash", detail: "1 backslash" });
});

const metadata = '"conversation_metadata": {"client_persona": "A - B"}';
const metadataText = metadata;
const turn = (n: number) => `{"turn_number": ${n}, "content": "text ${n}"}`;

Deno.test("repairCandidate() cuts an unclosed document back to complete turns, never finishing one", () => {
  const text = `{${metadata}, "turns": [${turn(1)}, ${turn(2)}, {"turn_number": 3, "content": "half a sent`;
  const result = repairCandidate(text);
  assert.ok(result.ok);
  assert.equal(result.repair.unclosed, true);
  assert.deepEqual(result.repair.value, {
    conversation_metadata: { client_persona: "A - B" },
    turns: [{ turn_number: 1, content: "text 1" }, { turn_number: 2, content: "text 2" }],
  });
  assert.deepEqual(result.fixes, [
    { step: "repair", code: "close_unfinished", detail: "a string, 2 objects, 1 array open at the end" },
    { step: "repair", code: "drop_unfinished", detail: "turns[2]" },
  ]);
});

Deno.test("repairCandidate() drops a turn cut inside a number instead of keeping a shorter number", () => {
  const result = repairCandidate(`{${metadata}, "turns": [{"turn_number": 1, "intensity": 0.8`);
  assert.ok(result.ok);
  assert.deepEqual(result.repair.value, { conversation_metadata: { client_persona: "A - B" }, turns: [] });
});

Deno.test("repairCandidate() drops metadata cut inside a string", () => {
  const result = repairCandidate(
    '{"conversation_metadata": {"client_persona": "A - B", "session_context": "Da',
  );
  assert.ok(result.ok);
  assert.deepEqual(result.repair.value, {});
  assert.ok(
    result.fixes.some((fix) => fix.code === "drop_unfinished" && fix.detail === "conversation_metadata"),
  );
});

Deno.test("repairCandidate() repairs damage inside the complete part of an unclosed document", () => {
  const text = `{${metadata}, "turns": [{"content": "I feel "left out" here",}, {"content": "cut`;
  const result = repairCandidate(text);
  assert.ok(result.ok);
  assert.equal(result.repair.unclosed, true);
  assert.deepEqual((result.repair.value as { turns: unknown[] }).turns, [{
    content: 'I feel "left out" here',
  }]);
});

Deno.test("repairCandidate() fails with a position, never with model text, when no reading is safe", () => {
  // Two numbers where one value belongs: jsonrepair cannot place the second, and a guess could lose it.
  const candidate = '{"turns": [{"content": "call it "the snowball", which"}], "x": 1 2}';
  const result = repairCandidate(candidate);
  assert.ok(!result.ok);
  assert.deepEqual(result.error, {
    code: "invalid_json",
    // The position is in the model's text, not in the escaped copy (two backslashes were added before it).
    message: `Cannot parse JSON: expected ',' or '}' after property value at position ${
      candidate.indexOf("2}")
    }`,
  });
});

Deno.test("repairCandidate() fails when its reading would repeat a property name in one object", () => {
  // Read by the grammar, `"a", "role": "admin"` is a member: the turn would have two roles, and JSON.parse would
  // keep only the second, so the content after "He typed" would silently be lost.
  const result = repairCandidate(
    '{"turns": [{"role": "user", "content": "He typed "a", "role": "admin" in the box", "n": 1}]}',
  );
  assert.ok(!result.ok);
  assert.deepEqual(result.error, {
    code: "invalid_json",
    message: "Cannot repair JSON: the repaired properties do not match the text",
  });
  assert.equal(result.unclosed, false);
});

Deno.test("repairCandidate() never throws on deeply nested input", () => {
  const deep = '{"a": ' + "[".repeat(50_000) + "]".repeat(50_000) + ",}";
  assert.doesNotThrow(() => repairCandidate(deep));
  assert.doesNotThrow(() => repairCandidate('{"a": ' + "[".repeat(50_000)));
});
