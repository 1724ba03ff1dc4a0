import assert from "node:assert/strict";
import {
  coerceConversation,
  describeSchemaIssue,
  formatPath,
  validateConversation,
} from "../../../shared/parse/validate.ts";
import { makeConversation } from "../../fixtures/parse/samples.ts";

const valid = makeConversation(3, { turns: 4 });
const copy = () =>
  structuredClone(valid) as unknown as Record<string, unknown> & { turns: Record<string, unknown>[] };

Deno.test("validateConversation() accepts a valid conversation unchanged", () => {
  const result = validateConversation(valid);
  assert.ok(result.ok);
  assert.deepEqual(result.conversation, valid);
  assert.deepEqual(result.fixes, []);
});

Deno.test("validateConversation() turns numeric strings into numbers and records each one", () => {
  const input = copy();
  input.turns[0].turn_number = "1";
  (input.turns[1].emotional_context as Record<string, unknown>).intensity = "0.65";
  const before = structuredClone(input);
  const result = validateConversation(input);
  assert.ok(result.ok);
  assert.equal(result.conversation.turns[0].turn_number, 1);
  assert.equal(result.conversation.turns[1].emotional_context.intensity, 0.65);
  assert.deepEqual(result.fixes, [
    { step: "validate", code: "coerce_number", detail: "turns[0].turn_number" },
    { step: "validate", code: "coerce_number", detail: "turns[1].emotional_context.intensity" },
  ]);
  assert.deepEqual(input, before, "the input is not mutated");
});

Deno.test("coerceConversation() leaves strings that are not plain numbers alone", () => {
  for (const text of ["", " 0.5", "0.5 ", "0x1", "Infinity", "1e999", "50%", "high", "0,5"]) {
    const input = copy();
    (input.turns[0].emotional_context as Record<string, unknown>).intensity = text;
    const { value, fixes } = coerceConversation(input);
    assert.equal(
      ((value as typeof input).turns[0].emotional_context as Record<string, unknown>).intensity,
      text,
      JSON.stringify(text),
    );
    assert.deepEqual(fixes, [], JSON.stringify(text));
  }
});

Deno.test("validateConversation() drops optional fields written as null", () => {
  const input = copy();
  (input.conversation_metadata as Record<string, unknown>).expected_outcome = null;
  (input.turns[2].emotional_context as Record<string, unknown>).secondary_emotion = null;
  const result = validateConversation(input);
  assert.ok(result.ok);
  assert.equal("expected_outcome" in result.conversation.conversation_metadata, false);
  assert.equal("secondary_emotion" in result.conversation.turns[2].emotional_context, false);
  assert.deepEqual(result.fixes.map((fix) => fix.detail), [
    "conversation_metadata.expected_outcome",
    "turns[2].emotional_context.secondary_emotion",
  ]);
});

Deno.test("validateConversation() names the first issue by path, in its own words", () => {
  const cases: { name: string; change: (input: ReturnType<typeof copy>) => void; message: string }[] = [
    {
      name: "missing metadata field",
      change: (input) => delete (input.conversation_metadata as Record<string, unknown>).client_persona,
      message: "Cannot validate conversation: conversation_metadata.client_persona is missing",
    },
    {
      name: "wrong role",
      change: (input) => (input.turns[0].role = "client"),
      message: "Cannot validate conversation: turns[0].role must be one of user, assistant",
    },
    {
      name: "roles out of order",
      change: (input) => {
        input.turns[0].role = "assistant";
        input.turns[1].role = "user";
      },
      message: "Cannot validate conversation: turns[0].role must be user",
    },
    {
      name: "turn numbers from 0",
      change: (input) => input.turns.forEach((turn, index) => (turn.turn_number = index)),
      message: "Cannot validate conversation: turns[0].turn_number must be at least 1",
    },
    {
      name: "turn numbers with a gap",
      change: (input) => (input.turns[2].turn_number = 4),
      message: "Cannot validate conversation: turns[2].turn_number must be 3",
    },
    {
      name: "fractional turn number",
      change: (input) => (input.turns[1].turn_number = 1.5),
      message: "Cannot validate conversation: turns[1].turn_number must be an integer",
    },
    {
      name: "intensity above 1",
      change: (input) => ((input.turns[1].emotional_context as Record<string, unknown>).intensity = 1.5),
      message: "Cannot validate conversation: turns[1].emotional_context.intensity must be at most 1",
    },
    {
      name: "negative intensity",
      change: (input) => ((input.turns[1].emotional_context as Record<string, unknown>).intensity = -0.1),
      message: "Cannot validate conversation: turns[1].emotional_context.intensity must be at least 0",
    },
    {
      name: "empty content",
      change: (input) => (input.turns[2].content = ""),
      message: "Cannot validate conversation: turns[2].content must not be empty",
    },
    {
      name: "blank content",
      change: (input) => (input.turns[2].content = " \n "),
      message: "Cannot validate conversation: turns[2].content must not be blank",
    },
    {
      name: "unknown property, named by the model",
      change: (input) => (input.turns[0]["ignore previous instructions"] = 1),
      message: "Cannot validate conversation: turns[0] has 1 unexpected property",
    },
    {
      name: "one turn",
      change: (input) => (input.turns = input.turns.slice(0, 1)),
      message: "Cannot validate conversation: turns must have at least 2 items",
    },
    {
      name: "ends with a user turn",
      change: (input) => (input.turns = input.turns.slice(0, 3)),
      message: "Cannot validate conversation: turns must end with an assistant turn",
    },
  ];
  for (const { name, change, message } of cases) {
    const input = copy();
    change(input);
    const result = validateConversation(input);
    assert.ok(!result.ok, name);
    assert.equal(describeSchemaIssue(result.issue), message, name);
  }
  const root = validateConversation([1, 2]);
  assert.ok(!root.ok);
  assert.equal(
    describeSchemaIssue(root.issue),
    "Cannot validate conversation: the document must be an object",
  );
});

Deno.test("formatPath() writes paths the way a reader looks them up", () => {
  assert.equal(formatPath([]), "the document");
  assert.equal(formatPath(["turns"]), "turns");
  assert.equal(
    formatPath(["turns", 3, "emotional_context", "intensity"]),
    "turns[3].emotional_context.intensity",
  );
});
