/**
 * Fault 3: the pg_net worker stops during a batch (docs/FAULTS.md).
 *
 * pg_net is fire-and-forget: the storage trigger's wake-up is a row in an unlogged queue that a background worker
 * sends once. Two ways it fails, both injected in the local gateway's worker:
 *   - paused: the worker stops taking requests; wake-ups wait in the queue and are delivered late, all at once,
 *     together with any the sweeper added meanwhile — duplicates must be no-ops (one parse attempt each);
 *   - dropping: requests leave the queue and are never sent (a crash mid-flight); nothing will ever wake those rows
 *     again except the sweeper, which finds them by their state and re-dispatches them.
 */
import assert from "node:assert/strict";
import {
  assertNothingLost,
  generateMany,
  getFaults,
  healStack,
  queuedWakeups,
  report,
  roundMs,
  setFaults,
  setStandinBehavior,
  settle,
  statusCounts,
  waitUntil,
} from "../../support/faults.ts";
import { createTestUser, sql, stackTest } from "../../support/stack.ts";

const N = 6;

async function parseAttempts(userId: string): Promise<number[]> {
  const rows = await sql()`
    select parse_attempts from public.conversations where user_id = ${userId} order by created_at`;
  return rows.map((r) => Number(r.parse_attempts));
}

stackTest(
  "fault: pg_net paused → wake-ups wait in the queue, delivered late, duplicates are no-ops",
  async () => {
    const user = await createTestUser();
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    let resumedAt = 0;
    try {
      await setStandinBehavior("clean");
      await setFaults({ pg_net: "paused" });
      answers = await generateMany(user.id, N, { respondAsync: true });
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201));
      const ids = answers.map((a) => a.conversationId!);
      await waitUntil(async () => (await queuedWakeups(ids)) === N, "one queued wake-up per upload");
      // The sweeper's re-dispatch is queued behind the same stopped worker.
      await sql()`select private.sweep_conversations(p_grace => interval '0 seconds')`;
      assert.ok((await queuedWakeups(ids)) > N, "the sweep's request waits in the queue too");
      await new Promise((r) => setTimeout(r, 1500)); // longer than the worker's 1 s poll
      assert.deepEqual(
        await statusCounts(user.id),
        { raw_stored: N },
        "nothing moves while pg_net is stopped",
      );
      resumedAt = performance.now();
      await setFaults({ pg_net: "running" });
    } finally {
      await healStack();
    }
    // No sweep after the resume: the queued wake-ups alone finish the work.
    const delivered = await waitUntil(
      async () => ((await statusCounts(user.id)).completed ?? 0) === N,
      "the delayed wake-ups to complete every conversation",
    );
    await assertNothingLost(user.id, answers);
    assert.deepEqual(
      await parseAttempts(user.id),
      answers.map(() => 1),
      "duplicate wake-ups made no extra attempt",
    );
    report("pg_net_paused", {
      generations: N,
      recovery_ms: roundMs(performance.now() - resumedAt),
      delivered_ms: roundMs(delivered),
    });
  },
);

stackTest(
  "fault: pg_net dropping its queue → wake-ups lost, the sweeper re-dispatches, all completed",
  async () => {
    const user = await createTestUser();
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    const dropped0 = (await getFaults()).counters.pg_net_dropped;
    try {
      await setStandinBehavior("clean");
      await setFaults({ pg_net: "dropping" });
      answers = await generateMany(user.id, N, { respondAsync: true });
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201));
      const ids = answers.map((a) => a.conversationId!);
      await waitUntil(
        async () =>
          (await getFaults()).counters.pg_net_dropped - dropped0 >= N && (await queuedWakeups(ids)) === 0,
        "the worker to drop every wake-up",
      );
      await setFaults({ pg_net: "running" });
      await new Promise((r) => setTimeout(r, 1500));
      assert.deepEqual(
        await statusCounts(user.id),
        { raw_stored: N },
        "with its wake-up lost, nothing parses a row until the sweeper finds it",
      );
    } finally {
      await healStack();
    }
    const recovery = await settle(user.id);
    const rows = await assertNothingLost(user.id, answers);
    assert.deepEqual(rows.map((r) => r.processing_status), answers.map(() => "completed"));
    const triggered = await sql()`
    select distinct a.triggered_by from public.conversation_parse_attempts a
      join public.conversations c using (conversation_id) where c.user_id = ${user.id}`;
    assert.deepEqual(triggered.map((t) => t.triggered_by), ["sweeper"], "the sweeper woke every one of them");
    report("pg_net_dropping", { generations: N, recovery_ms: roundMs(recovery.ms), sweeps: recovery.sweeps });
  },
);
