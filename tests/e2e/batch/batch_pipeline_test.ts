/**
 * Batch generation end to end (docs/BATCHES.md): a batch of BATCH_E2E_COUNT (200 here; 1,000 with
 * `deno task test:batch`) requests with the stand-in's `mixed` behaviours goes through generate-batch, the
 * Message Batches stand-in and the collector function, then the storage trigger and parse-conversation as
 * unchanged: raw objects = succeeded results, rows = requests, every row terminal, nothing stuck. Also the
 * Idempotency-Key of a batch, list and status with counts per state, and cancel.
 */
import assert from "node:assert/strict";
import { healStack, setStandinBehavior, settle } from "../../support/faults.ts";
import {
  createTestUser,
  functionsUrl,
  serviceKey,
  sql,
  stackTest,
  standinAdmin,
} from "../../support/stack.ts";
import { assertBatchEnded, collect, collectUntilDone, submit } from "./_batch.ts";

const COUNT = Number(Deno.env.get("BATCH_E2E_COUNT") ?? "200");

stackTest(`batch: ${COUNT} mixed requests end with raw objects = succeeded, every row terminal`, async () => {
  const user = await createTestUser();
  try {
    await setStandinBehavior("mixed");
    const started = performance.now();
    const batch = await submit(user.id, COUNT);
    const submitMs = performance.now() - started;
    await collectUntilDone(batch.batch_id);
    const tally = await assertBatchEnded(user.id, batch);
    assert.ok(
      tally.succeeded > 0 && tally.errored > 0,
      `mixed behaviours give both: ${JSON.stringify(tally)}`,
    );
    console.log(JSON.stringify({ batch_e2e: COUNT, submit_ms: Math.round(submitMs), tally }));
  } finally {
    await healStack();
  }
});

stackTest(
  "batch: the same Idempotency-Key replays the batch; list and status count conversations per state",
  async () => {
    const user = await createTestUser();
    const key = `e2e-${crypto.randomUUID()}`;
    const first = await submit(user.id, 3, key);
    const replay = await fetch(functionsUrl("generate-batch"), {
      method: "POST",
      headers: {
        authorization: `Bearer ${serviceKey()}`,
        "x-user-id": user.id,
        "content-type": "application/json",
        "idempotency-key": key,
      },
      body: JSON.stringify({
        requests: Array.from({ length: 3 }, () => ({
          persona_id: "10000000-0000-4000-8000-000000000002",
          emotional_arc_id: "20000000-0000-4000-8000-000000000001",
          training_topic_id: "30000000-0000-4000-8000-000000000001",
          tier: "template",
        })),
      }),
    });
    assert.equal(replay.status, 200);
    assert.equal((await replay.json()).batch_id, first.batch_id);
    const list = await fetch(functionsUrl("generate-batch"), {
      headers: { authorization: `Bearer ${serviceKey()}`, "x-user-id": user.id },
    });
    const batches = (await list.json()).batches;
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0].conversation_counts, { batch_queued: 3 });
    await collectUntilDone(first.batch_id);
    await assertBatchEnded(user.id, first);
  },
);

stackTest(
  "batch: cancel → canceling → ended; every request canceled or answered, all rows terminal",
  async () => {
    const user = await createTestUser();
    const batch = await submit(user.id, 5);
    const res = await fetch(functionsUrl(`generate-batch/${batch.batch_id}/cancel`), {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey()}`, "x-user-id": user.id },
    });
    const body = await res.json();
    assert.equal(res.status, 202, JSON.stringify(body));
    assert.equal(body.state, "canceling");
    await collect();
    await collectUntilDone(batch.batch_id);
    const tally = await assertBatchEnded(user.id, batch);
    assert.equal(tally.canceled + tally.succeeded + tally.errored, 5);
  },
);

stackTest("batch: expired requests are re-queued once into a new batch, then answered", async () => {
  const user = await createTestUser();
  const batch = await submit(user.id, 6);
  // Anthropic's 24 h pass now: the first 2 requests (in processing order) keep results, 4 expire.
  await standinAdmin(`batches/${batch.anthropic_batch_id}/expire`, { method: "POST", body: '{"count": 2}' });
  await collectUntilDone(batch.batch_id);
  const [again] = await sql()`select id::text, requeue_depth, request_count from public.generation_batches
                               where requeue_of = ${batch.batch_id}`;
  assert.equal(again.requeue_depth, 1);
  assert.equal(again.request_count, 4);
  await collectUntilDone(String(again.id));
  const [first] =
    await sql()`select collected_counts from public.generation_batches where id = ${batch.batch_id}`;
  assert.equal((first.collected_counts as Record<string, number>).requeued, 4);
  const [second] = await sql()`select collected_counts from public.generation_batches where id = ${again.id}`;
  const counts = second.collected_counts as Record<string, number>;
  assert.equal(counts.succeeded + counts.errored, 4, "the re-queued requests are answered in the new batch");
  await settle(user.id, { timeoutMs: 60_000, fastForward: true });
  const rows = await sql()`select processing_status, count(*)::int as n from public.conversations
                            where user_id = ${user.id} group by 1`;
  const byStatus = Object.fromEntries(rows.map((r) => [String(r.processing_status), Number(r.n)]));
  const terminal = (byStatus.completed ?? 0) + (byStatus.parse_failed ?? 0) +
    (byStatus.generation_failed ?? 0);
  assert.equal(terminal, 6, `every row terminal: ${JSON.stringify(byStatus)}`);
});
