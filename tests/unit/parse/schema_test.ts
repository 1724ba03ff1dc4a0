import assert from "node:assert/strict";
import {
  conversationJsonSchema,
  conversationOutputFormat,
  ConversationSchema,
} from "../../../shared/parse/schema.ts";
import { makeConversation } from "../../fixtures/parse/samples.ts";

type Node = { [key: string]: unknown };

function* nodes(node: unknown): Generator<Node> {
  if (Array.isArray(node)) {
    for (const item of node) yield* nodes(item);
  } else if (node !== null && typeof node === "object") {
    yield node as Node;
    for (const value of Object.values(node)) yield* nodes(value);
  }
}

Deno.test("ConversationSchema accepts generated conversations of every size", () => {
  for (const turns of [2, 4, 10, 40]) {
    assert.ok(ConversationSchema.safeParse(makeConversation(turns, { turns })).success, `${turns} turns`);
  }
});

Deno.test("conversationJsonSchema has no numeric or length bounds, which structured outputs reject", () => {
  const rejected = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
  ];
  for (const node of nodes(conversationJsonSchema)) {
    for (const keyword of rejected) {
      // Skip `properties` maps: their keys are field names, not keywords.
      if (node.type !== undefined || node.description !== undefined) assert.ok(!(keyword in node), keyword);
    }
    if (typeof node.minItems === "number") assert.ok(node.minItems <= 1, "minItems must be 0 or 1");
  }
  assert.equal("$schema" in conversationJsonSchema, false);
});

Deno.test("conversationJsonSchema closes every object and states the ranges in descriptions", () => {
  const objects = [...nodes(conversationJsonSchema)].filter((node) => node.type === "object");
  assert.equal(objects.length, 4);
  for (const object of objects) assert.equal(object.additionalProperties, false);
  const turn = (conversationJsonSchema.properties as Node).turns as Node;
  const turnProperties = (turn.items as Node).properties as Node;
  const context = ((turnProperties.emotional_context as Node).properties as Node).intensity as Node;
  assert.equal(context.type, "number");
  assert.match(String(context.description), /0 .*1/);
  assert.match(String(turn.description), /at least 2 turns/i);
  assert.deepEqual((turn.items as Node).required, ["turn_number", "role", "content", "emotional_context"]);
});

Deno.test("conversationOutputFormat is ready for output_config.format", () => {
  assert.equal(conversationOutputFormat.type, "json_schema");
  assert.equal(conversationOutputFormat.schema, conversationJsonSchema);
  assert.doesNotThrow(() => JSON.stringify(conversationOutputFormat));
});
