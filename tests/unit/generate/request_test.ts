import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import {
  canonicalRequest,
  GenerateRequestSchema,
  readIdempotencyKey,
  requestHash,
  resolveActingUser,
} from "../../../shared/generate/request.ts";
import { ARC, PERSONA, TOPIC, USER } from "./_fakes.ts";

const valid = { persona_id: PERSONA, emotional_arc_id: ARC, training_topic_id: TOPIC, tier: "template" };

Deno.test("GenerateRequestSchema accepts the checklist's body and the optional fields", () => {
  assert.deepEqual(GenerateRequestSchema.parse(valid), { ...valid });
  const full = GenerateRequestSchema.parse({
    ...valid,
    tier: "edge_case",
    temperature: 0.5,
    max_tokens: 4096,
    template_id: PERSONA.toUpperCase(),
  });
  assert.equal(full.template_id, PERSONA, "ids are lower-cased");
  assert.equal(full.max_tokens, 4096);
});

Deno.test("GenerateRequestSchema treats null optional fields as absent", () => {
  const parsed = GenerateRequestSchema.parse({
    ...valid,
    temperature: null,
    max_tokens: null,
    template_id: null,
  });
  assert.equal(parsed.temperature, undefined);
  assert.equal(parsed.max_tokens, undefined);
  assert.equal(parsed.template_id, undefined);
  assert.equal(canonicalRequest(parsed), canonicalRequest(GenerateRequestSchema.parse(valid)));
});

Deno.test("GenerateRequestSchema accepts seed-style ids without an RFC version digit", () => {
  const seedId = "11111111-1111-1111-1111-111111111111";
  assert.equal(GenerateRequestSchema.parse({ ...valid, persona_id: seedId }).persona_id, seedId);
});

const invalid: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
  ["an unknown field", { ...valid, created_by: USER }, /unrecognized/i],
  ["a non-uuid persona_id", { ...valid, persona_id: "test-persona-id" }, /^persona_id: must be a uuid/],
  ["a missing tier", { persona_id: PERSONA, emotional_arc_id: ARC, training_topic_id: TOPIC }, /^tier: /],
  ["an unknown tier", { ...valid, tier: "gold" }, /^tier: /],
  ["temperature above 1", { ...valid, temperature: 1.5 }, /^temperature: /],
  ["max_tokens below 256", { ...valid, max_tokens: 100 }, /^max_tokens: /],
  ["max_tokens above 64000", { ...valid, max_tokens: 64001 }, /^max_tokens: /],
  ["a fractional max_tokens", { ...valid, max_tokens: 1000.5 }, /^max_tokens: /],
];

for (const [name, body, message] of invalid) {
  Deno.test(`GenerateRequestSchema refuses ${name}`, () => {
    const r = GenerateRequestSchema.safeParse(body);
    assert.equal(r.success, false);
    const text = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    assert.match(text, message);
  });
}

function req(headers: Record<string, string>): Request {
  return new Request("http://x/", { method: "POST", headers });
}

Deno.test("readIdempotencyKey() returns null when absent and the key when printable", () => {
  assert.equal(readIdempotencyKey(req({})), null);
  assert.equal(readIdempotencyKey(req({ "idempotency-key": "order-42/retry:1" })), "order-42/retry:1");
  assert.equal(readIdempotencyKey(req({ "idempotency-key": "k".repeat(255) })), "k".repeat(255));
});

Deno.test("readIdempotencyKey() refuses an over-long key with bad_request", () => {
  assert.throws(
    () => readIdempotencyKey(req({ "idempotency-key": "k".repeat(256) })),
    (e) => e instanceof AppError && e.code === "bad_request",
  );
});

Deno.test("resolveActingUser() uses the JWT's sub and refuses x-user-id with a user token", () => {
  const caller = { kind: "user" as const, userId: USER, role: "authenticated", reviewer: false };
  assert.deepEqual(resolveActingUser(req({}), caller), { userId: USER, mustExist: false });
  assert.throws(
    () => resolveActingUser(req({ "x-user-id": USER }), caller),
    (e) => e instanceof AppError && e.code === "forbidden",
  );
});

Deno.test("resolveActingUser() requires a uuid x-user-id with the service key", () => {
  const service = { kind: "service" as const };
  assert.deepEqual(resolveActingUser(req({ "x-user-id": USER.toUpperCase() }), service), {
    userId: USER,
    mustExist: true,
  });
  const cases: Record<string, string>[] = [{}, { "x-user-id": "test-user" }, { "x-user-id": " " }];
  for (const headers of cases) {
    assert.throws(
      () => resolveActingUser(req(headers), service),
      (e) => e instanceof AppError && e.code === "bad_request",
    );
  }
});

Deno.test("requestHash() ignores key order, id casing and null optionals, and sees every value", async () => {
  const a = GenerateRequestSchema.parse({ ...valid, max_tokens: 4096 });
  const b = GenerateRequestSchema.parse({
    max_tokens: 4096,
    tier: "template",
    training_topic_id: TOPIC.toUpperCase(),
    emotional_arc_id: ARC,
    persona_id: PERSONA,
    template_id: null,
  });
  assert.equal(canonicalRequest(a), canonicalRequest(b));
  assert.equal(await requestHash(a), await requestHash(b));
  const c = GenerateRequestSchema.parse({ ...valid, max_tokens: 4097 });
  assert.notEqual(await requestHash(a), await requestHash(c));
  assert.match(await requestHash(a), /^[0-9a-f]{64}$/);
});
