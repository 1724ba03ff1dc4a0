import assert from "node:assert/strict";
import { submitBatch, type SubmitDeps } from "../../../shared/batch/submit_batch.ts";
import { AppError } from "../../../shared/errors.ts";
import { ARC, FakeRepo, PERSONA, TOPIC, USER } from "../generate/_fakes.ts";
import { clock, FakeBatchApi, FakeBatchStore } from "./_fakes.ts";

const REQ = {
  persona_id: PERSONA,
  emotional_arc_id: ARC,
  training_topic_id: TOPIC,
  tier: "template" as const,
  temperature: undefined,
  max_tokens: undefined,
  template_id: undefined,
};

function deps(over: Partial<SubmitDeps> = {}) {
  const store = new FakeBatchStore();
  const api = new FakeBatchApi();
  const repo = new FakeRepo();
  const d: SubmitDeps = {
    repo,
    store,
    api,
    clock,
    model: "claude-sonnet-4-5",
    defaultMaxTokens: 4096,
    structuredOutputs: true,
    ...over,
  };
  return { d, store, api, repo };
}

const input = (n: number, key: string | null = null) => ({
  body: { requests: Array.from({ length: n }, () => ({ ...REQ })) },
  userId: USER,
  userMustExist: false,
  isService: false,
  idempotencyKey: key,
  requestHash: "a".repeat(64),
});

Deno.test("submitBatch() queues every request as a conversation and creates ONE batch with custom_id = its id", async () => {
  const { d, store, api } = deps();
  const out = await submitBatch(d, input(3));
  assert.equal(out.kind, "accepted");
  assert.equal(out.batch.conversation_ids.length, 3);
  assert.equal(out.batch.state, "in_progress");
  assert.equal(api.created.length, 1);
  assert.deepEqual(api.created[0].map((r) => r.custom_id), out.batch.conversation_ids);
  const params = api.created[0][0].params as Record<string, unknown>;
  assert.equal(params.max_tokens, 4096);
  assert.equal("stream" in params, false, "batch params are non-streaming");
  assert.ok(params.output_config, "structured outputs as generate asks for them");
  for (const id of out.batch.conversation_ids) assert.equal(store.convs.get(id)!.status, "batch_queued");
});

Deno.test("submitBatch() replays the same Idempotency-Key and refuses it with another batch", async () => {
  const { d, api } = deps();
  const first = await submitBatch(d, input(2, "k1"));
  const again = await submitBatch(d, input(2, "k1"));
  assert.equal(again.kind, "replayed");
  assert.deepEqual(again.batch.conversation_ids, first.batch.conversation_ids);
  assert.equal(api.created.length, 1, "no second batch at Anthropic");
  await assert.rejects(
    submitBatch(d, { ...input(2, "k1"), requestHash: "b".repeat(64) }),
    (e) => e instanceof AppError && e.code === "conflict",
  );
});

Deno.test("submitBatch() fails the batch and its conversations when Anthropic refuses, and gives the budget back", async () => {
  const { d, store, api } = deps();
  api.failCreate = true;
  await assert.rejects(
    submitBatch(d, input(2)),
    (e) => e instanceof AppError && e.code === "upstream_unavailable",
  );
  const [b] = [...store.batches.values()];
  assert.equal(b.state, "failed");
  for (const c of store.convs.values()) {
    assert.equal(c.status, "generation_failed");
    assert.match(c.error!, /^batch_not_submitted/);
  }
  assert.deepEqual(store.released, [2 * 4096]);
});

Deno.test("submitBatch() answers 429 when the budget refuses, before anything is written", async () => {
  const { d, store } = deps();
  store.refuse = {
    allowed: false,
    limit: "generate_requests_per_minute",
    maxAmount: 60,
    used: 61,
    resetAt: new Date(Date.now() + 60_000),
  };
  await assert.rejects(submitBatch(d, input(2)), (e) => e instanceof AppError && e.code === "rate_limited");
  assert.equal(store.batches.size, 0);
});

Deno.test("submitBatch() answers 404 for missing scaffolding, before anything is written", async () => {
  const { d, store, repo } = deps();
  repo.scaffolding = { ...repo.scaffolding, persona: null };
  await assert.rejects(submitBatch(d, input(1)), (e) => e instanceof AppError && e.code === "not_found");
  assert.equal(store.batches.size, 0);
});

Deno.test("submitBatch() records the Anthropic id through a short database outage", async () => {
  const { d, store } = deps();
  let failures = 2;
  const mark = store.markSubmitted.bind(store);
  store.markSubmitted = (id, remote) =>
    failures-- > 0 ? Promise.reject(new Error("connection lost")) : mark(id, remote);
  const out = await submitBatch(d, input(1));
  assert.equal(store.batches.get(out.batch.batch_id)!.state, "in_progress");
});
