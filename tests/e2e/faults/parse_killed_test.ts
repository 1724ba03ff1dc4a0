/**
 * Fault 5: the parse worker dies after claiming its conversations (docs/FAULTS.md).
 *
 * Storage is made to hang so that parse-conversation stops right after its claims, inside the raw download; then
 * its worker process is killed (SIGKILL: a crash, or hosted's CPU or memory limit). The rows stay `parsing` with a
 * claim nobody will finish. While the lease runs, deliveries and sweeps leave them alone; once it has ended, the
 * sweeper logs the vanished attempt as `claim_expired`, makes the row claimable and re-dispatches it, and the
 * parse completes on a fresh worker. The 60 s lease is ended early (fastForward) instead of waited for.
 */
import assert from "node:assert/strict";
import {
  assertNothingLost,
  generateMany,
  healStack,
  report,
  roundMs,
  setFaults,
  setStandinBehavior,
  settle,
  statusCounts,
  waitUntil,
} from "../../support/faults.ts";
import { createTestUser, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";

const N = 4;

stackTest(
  "fault: parse worker killed after its claim → the claim expires, the sweeper reclaims, all completed",
  async () => {
    const user = await createTestUser();
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    let killedAt = 0;
    try {
      await setStandinBehavior("clean");
      // Stored, with the wake-ups held back until Storage hangs.
      await setFaults({ pg_net: "paused" });
      answers = await generateMany(user.id, N, { respondAsync: true });
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201));
      await setFaults({ storage: "hang", pg_net: "running" });
      await waitUntil(
        async () => (await statusCounts(user.id)).parsing === N,
        "parse-conversation to claim every conversation and block in the download",
      );
      const killed = await setFaults({ kill_function: "parse-conversation" });
      killedAt = performance.now();
      assert.equal(killed.killed, 1, "the parse worker was running and is killed");
      await setFaults({ storage: "up" });

      // The claims hold while their lease runs: a new delivery and a sweep leave the rows alone.
      const res = await fetch(`${stackEnv().SUPABASE_URL}/functions/v1/parse-conversation`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
        body: JSON.stringify({ conversation_ids: answers.map((a) => a.conversationId) }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, "a fresh worker answers");
      assert.deepEqual(
        body.results.map((r: { result: string; reason?: string }) => `${r.result}:${r.reason}`),
        answers.map(() => "skipped:not_claimable"),
      );
      await sql()`select private.sweep_conversations(p_grace => interval '0 seconds')`;
      assert.deepEqual(await statusCounts(user.id), { parsing: N }, "the claims hold until the lease ends");
    } finally {
      await healStack();
    }

    const recovery = await settle(user.id, { fastForward: true });
    const rows = await assertNothingLost(user.id, answers);
    assert.deepEqual(rows.map((r) => r.processing_status), answers.map(() => "completed"));
    const log = await sql()`
    select string_agg(a.attempt_number || ':' || a.outcome || ':' || coalesce(a.error_code, '-'), ' '
                      order by a.attempt_number) as attempts
      from public.conversation_parse_attempts a join public.conversations c using (conversation_id)
     where c.user_id = ${user.id} group by a.conversation_id`;
    assert.deepEqual(
      log.map((l) => l.attempts),
      answers.map(() => "1:error:claim_expired 2:parsed:-"),
      "the killed attempt is logged as claim_expired, the second one parsed",
    );
    report("parse_killed_after_claim", {
      generations: N,
      recovery_ms: roundMs(recovery.ms),
      since_kill_ms: roundMs(performance.now() - killedAt),
      sweeps: recovery.sweeps,
      fast_forwarded: recovery.fastForwarded,
    });
  },
);
