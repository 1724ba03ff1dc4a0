import assert from "node:assert/strict";
import {
  drawMixed,
  hashSeed,
  MIXED_WEIGHTS,
  parseBehavior,
  resolveOutcome,
} from "../../../../local/claude_standin/behavior.ts";

const ctx = { seed: 1, callIndex: 0, isStream: false, hasOutputFormat: false };

Deno.test("parseBehavior() reads names, arguments and + combinations", () => {
  assert.deepEqual(parseBehavior("fenced"), { base: "fenced", latencyMs: 0, retryAfterSec: 1 });
  assert.deepEqual(parseBehavior("slow:1500+truncated"), {
    base: "truncated",
    latencyMs: 1500,
    retryAfterSec: 1,
  });
  assert.deepEqual(parseBehavior("slow"), { base: "clean", latencyMs: 2000, retryAfterSec: 1 });
  assert.deepEqual(parseBehavior("rate_limited:5"), { base: "rate_limited", latencyMs: 0, retryAfterSec: 5 });
  assert.deepEqual(parseBehavior("fail_then_succeed:2:rate_limited+fenced"), {
    base: "fenced",
    latencyMs: 0,
    retryAfterSec: 1,
    failFirst: { count: 2, outcome: "rate_limited" },
  });
  assert.equal(parseBehavior(" MIXED ").base, "mixed");
});

Deno.test("parseBehavior() names the bad part of an unknown or malformed behaviour", () => {
  assert.throws(() => parseBehavior("fencd"), /"fencd": unknown name/);
  assert.throws(() => parseBehavior("slow:soon"), /"slow:soon"/);
  assert.throws(() => parseBehavior("fail_then_succeed:1:refusal"), /fail_then_succeed fails with/);
});

Deno.test("resolveOutcome() fails the first N calls of a seed, then applies the base behaviour", () => {
  const spec = parseBehavior("fail_then_succeed:2+fenced");
  assert.equal(resolveOutcome(spec, { ...ctx, callIndex: 0 }), "overloaded");
  assert.equal(resolveOutcome(spec, { ...ctx, callIndex: 1 }), "overloaded");
  assert.equal(resolveOutcome(spec, { ...ctx, callIndex: 2 }), "fenced");
});

Deno.test("resolveOutcome() answers schema_rejected only when the request asks for structured output", () => {
  const spec = parseBehavior("schema_rejected");
  assert.equal(resolveOutcome(spec, ctx), "clean");
  assert.equal(resolveOutcome(spec, { ...ctx, hasOutputFormat: true }), "schema_rejected");
});

Deno.test("drawMixed() is deterministic per seed and mostly clean", () => {
  const seeds = Array.from({ length: 2000 }, (_, i) => hashSeed(`seed-${i}`));
  assert.deepEqual(seeds.map(drawMixed), seeds.map(drawMixed));
  const counts = new Map<string, number>();
  for (const s of seeds) counts.set(drawMixed(s), (counts.get(drawMixed(s)) ?? 0) + 1);
  const clean = (counts.get("clean") ?? 0) / seeds.length;
  assert.ok(clean > 0.42 && clean < 0.58, `clean share ${clean}`);
  for (const [outcome] of MIXED_WEIGHTS) assert.ok((counts.get(outcome) ?? 0) > 0, `${outcome} is drawn`);
});

Deno.test("resolveOutcome() for mixed clears a transient failure on the seed's next call", () => {
  const spec = parseBehavior("mixed");
  const seed = Array.from({ length: 500 }, (_, i) => hashSeed(`t-${i}`)).find((s) =>
    drawMixed(s) === "overloaded"
  );
  assert.ok(seed !== undefined);
  assert.equal(resolveOutcome(spec, { ...ctx, seed, callIndex: 0 }), "overloaded");
  assert.equal(resolveOutcome(spec, { ...ctx, seed, callIndex: 1 }), "clean");
});

Deno.test("parseBehavior() reads drip:MS (a stream spread over MS) and combines it", () => {
  assert.deepEqual(parseBehavior("drip:7000+mixed"), {
    base: "mixed",
    latencyMs: 0,
    retryAfterSec: 1,
    dripMs: 7000,
  });
  assert.equal(parseBehavior("drip").dripMs, 10_000);
});
