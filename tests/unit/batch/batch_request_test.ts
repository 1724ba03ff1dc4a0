import assert from "node:assert/strict";
import {
  batchBodyLimitBytes,
  batchBodySchema,
  batchRequestHash,
  messageParams,
} from "../../../shared/batch/batch_request.ts";

const REQ = {
  persona_id: "10000000-0000-4000-8000-000000000001",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

Deno.test("batchBodySchema() takes 1..max generate bodies, strictly", () => {
  const s = batchBodySchema(2);
  assert.ok(s.safeParse({ requests: [REQ] }).success);
  assert.equal(s.safeParse({ requests: [] }).success, false);
  assert.equal(s.safeParse({ requests: [REQ, REQ, REQ] }).success, false);
  assert.equal(s.safeParse({ requests: [{ ...REQ, extra: 1 }] }).success, false);
  assert.equal(s.safeParse({ requests: [REQ], other: 1 }).success, false);
  assert.ok(batchBodyLimitBytes(1000) > 1000 * 300);
});

Deno.test("batchRequestHash() ignores key order, id casing and null optionals; order of requests counts", async () => {
  const s = batchBodySchema(10);
  const a = s.parse({ requests: [REQ, { ...REQ, tier: "scenario" }] });
  const b = s.parse({
    requests: [{ ...REQ, persona_id: REQ.persona_id.toUpperCase(), max_tokens: null }, {
      ...REQ,
      tier: "scenario",
    }],
  });
  const c = s.parse({ requests: [{ ...REQ, tier: "scenario" }, REQ] });
  assert.equal(await batchRequestHash(a), await batchRequestHash(b));
  assert.notEqual(await batchRequestHash(a), await batchRequestHash(c));
});

Deno.test("messageParams() builds generate's request without stream or sampling parameters", () => {
  const base = {
    model: "m",
    maxTokens: 1000,
    system: "s",
    prompt: "p",
    plainJsonInstructions: "JSON!",
    userId: "u",
  };
  const structured = messageParams({ ...base, outputSchema: { type: "object" } });
  assert.deepEqual(structured.messages, [{ role: "user", content: "p" }]);
  assert.deepEqual(structured.output_config, { format: { type: "json_schema", schema: { type: "object" } } });
  assert.deepEqual(structured.metadata, { user_id: "u" });
  assert.equal("stream" in structured || "temperature" in structured, false);
  const plain = messageParams({ ...base, outputSchema: null });
  assert.deepEqual(plain.messages, [{ role: "user", content: "p\n\nJSON!" }]);
  assert.equal("output_config" in plain, false);
});
