import assert from "node:assert/strict";
import { floorCandidate, readFloor, readsVerbatim } from "../../../shared/parse/floor.ts";
import { makeConversation, render } from "../../fixtures/parse/samples.ts";

const conversation = makeConversation(3, { turns: 4 });
const rendered = render(conversation, true);

Deno.test("floorCandidate() takes the inside of a fence, else first { to last }, else the trimmed text", () => {
  const cases: [string, string][] = [
    ['Here:\n```json\n{"a": 1}\n```\nbye', '{"a": 1}'],
    ['x {"a": {"b": 1}} y', '{"a": {"b": 1}}'],
    ['cut here {"a": 1', '{"a": 1'],
    ['  "{\\"a\\": 1}"  ', '"{\\"a\\": 1}"'],
    ["  no json  ", "no json"],
  ];
  for (const [text, expected] of cases) assert.equal(floorCandidate(text), expected, text);
});

Deno.test("readFloor() reads a complete document: not closed by repair, verbatim, no repeated name", () => {
  const r = readFloor(rendered.text);
  assert.ok(r.ok);
  assert.deepEqual(r.conversation, conversation);
  assert.equal(r.closedByRepair, false);
  assert.equal(r.verbatim, true);
  assert.equal(r.repeatsName, false);
});

Deno.test("readFloor() says closedByRepair when jsonrepair had to close a cut text", () => {
  const r = readFloor(rendered.text.slice(0, rendered.turnEnds[1]));
  assert.ok(r.ok, "jsonrepair alone accepts the cut text: the floor must report it");
  assert.equal(r.closedByRepair, true);
  assert.equal(r.conversation.turns.length, 2);
});

Deno.test("readFloor() decodes one level of a string-encoded document and finds a fenced one", () => {
  for (const text of [JSON.stringify(rendered.text), "```json\n" + rendered.text + "\n```"]) {
    const r = readFloor(text);
    assert.ok(r.ok);
    assert.deepEqual(r.conversation, conversation);
  }
});

Deno.test("readFloor() answers ok: false, never throws, for no JSON or JSON that is not a conversation", () => {
  for (const text of ["", "no json here", '{"a": 1}', "[1, 2]", "{".repeat(10_000)]) {
    assert.deepEqual(readFloor(text), { ok: false }, text.slice(0, 20));
  }
});

Deno.test("readFloor() reports a property name repeated in one object (a value was dropped)", () => {
  const first = conversation.turns[0].content;
  const text = rendered.text.replace(
    `"content": ${JSON.stringify(first)}`,
    `"content": "lost", "content": ${JSON.stringify(first)}`,
  );
  assert.notEqual(text, rendered.text);
  const r = readFloor(text);
  assert.ok(r.ok);
  assert.equal(r.repeatsName, true);
});

Deno.test("readsVerbatim() is false when a string of the conversation is not in the text as written", () => {
  assert.equal(readsVerbatim(conversation, rendered.text), true);
  const altered = structuredClone(conversation);
  altered.turns[1].content = `${altered.turns[1].content} (added)`;
  assert.equal(readsVerbatim(altered, rendered.text), false);
  const emotion = structuredClone(conversation);
  emotion.turns[0].emotional_context.primary_emotion = "glee";
  assert.equal(readsVerbatim(emotion, rendered.text), false);
});

Deno.test('readsVerbatim() resolves escapes on both sides: \\n and \\" in the text match the decoded string', () => {
  const c = structuredClone(conversation);
  c.turns[0].content = 'He said "no"\nthen left';
  assert.equal(readsVerbatim(c, JSON.stringify(c)), true);
});
