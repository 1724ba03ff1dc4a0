import assert from "node:assert/strict";
import { repairCandidate } from "../../../shared/parse/repair.ts";

Deno.test("repairCandidate() repairs the damage models produce, keeping every string as written", () => {
  const cases: { name: string; candidate: string; value: unknown }[] = [
    {
      name: "unescaped inner quotes",
      candidate: '{"content": "I feel "left out" when friends go out.", "n": 1}',
      value: { content: 'I feel "left out" when friends go out.', n: 1 },
    },
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
  const result = repairCandidate('{"turns": [{"content": "call it "the snowball", which is silly"}]}');
  assert.ok(!result.ok);
  assert.equal(result.error.code, "invalid_json");
  assert.match(
    result.error.message,
    /^Cannot parse JSON: expected ',' or '}' after property value at position \d+$/,
  );
  assert.doesNotMatch(result.error.message, /snowball/);
});

Deno.test("repairCandidate() never throws on deeply nested input", () => {
  const deep = '{"a": ' + "[".repeat(50_000) + "]".repeat(50_000) + ",}";
  assert.doesNotThrow(() => repairCandidate(deep));
  assert.doesNotThrow(() => repairCandidate('{"a": ' + "[".repeat(50_000)));
});
