import assert from "node:assert/strict";
import { planDemo, type Scaffolding } from "../../../../local/demo/plan.ts";

const S: Scaffolding = {
  personas: [{ id: "p1", key: "anxious_planner" }, { id: "p2", key: "late_starter" }],
  arcs: [
    { id: "a1", key: "confusion_to_clarity", tier: "template" },
    { id: "a2", key: "anxiety_to_confidence", tier: "scenario" },
    { id: "a3", key: "crisis_to_referral", tier: "edge_case" },
  ],
  topics: [{ id: "t1", key: "hsa_vs_fsa" }],
};

Deno.test("planDemo() rotates through every persona, arc and topic, each arc at its own tier", () => {
  const r = planDemo(S, 4, "run1");
  assert.ok(r.ok);
  assert.deepEqual(r.items.map((i) => [i.body.persona_id, i.body.emotional_arc_id, i.body.tier]), [
    ["p1", "a1", "template"],
    ["p2", "a2", "scenario"],
    ["p1", "a3", "edge_case"],
    ["p2", "a1", "template"],
  ]);
  assert.deepEqual(r.items.map((i) => i.n), [1, 2, 3, 4]);
  assert.equal(r.items[1].label, "late_starter / anxiety_to_confidence / hsa_vs_fsa");
});

Deno.test("planDemo() gives each request its own Idempotency-Key, scoped to the run", () => {
  const a = planDemo(S, 3, "run1");
  const b = planDemo(S, 3, "run2");
  assert.ok(a.ok && b.ok);
  const keys = [...a.items, ...b.items].map((i) => i.idempotencyKey);
  assert.equal(new Set(keys).size, 6);
  assert.equal(a.items[0].idempotencyKey, "demo-run1-1");
});

Deno.test("planDemo() falls back to the template tier for an arc with an unknown tier", () => {
  const r = planDemo({ ...S, arcs: [{ id: "a9", key: "x", tier: "premium" }] }, 1, "r");
  assert.ok(r.ok);
  assert.equal(r.items[0].body.tier, "template");
});

Deno.test("planDemo() names the missing scaffolding instead of sending requests that would 404", () => {
  const r = planDemo({ ...S, topics: [] }, 3, "r");
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, /no active training_topics rows .*db:reset/);
});
