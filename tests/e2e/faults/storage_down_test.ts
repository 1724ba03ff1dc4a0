/**
 * Fault 1: Storage is down while conversations are generated (docs/FAULTS.md).
 *
 * The gateway's Storage API answers 502 (Kong: the storage service is gone) and then 500 (storage-api's own
 * InternalError) while generations run. generate-conversation retries each upload, then spools the raw bytes in
 * Postgres (`raw_response_spool` + `raw_spooled`, one transaction) and still answers 201. A sweep during the
 * outage asks for a flush, which fails and defers the rows without dropping a byte. Once Storage is back, the
 * sweeper's flush uploads every spooled response through the Storage API, the storage trigger marks the rows
 * raw_stored and wakes the parse, and every conversation completes.
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
  waitUntil,
} from "../../support/faults.ts";
import { createTestUser, sql, stackTest } from "../../support/stack.ts";

const PER_MODE = 4;

stackTest(
  "fault: Storage down during generation → spooled, flushed once Storage is back, all completed",
  async () => {
    const user = await createTestUser();
    let outageMs = 0;
    let deferredS = 0;
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    try {
      await setStandinBehavior("clean");
      const outage = performance.now();
      await setFaults({ storage: "down" });
      const down = await generateMany(user.id, PER_MODE);
      await setFaults({ storage: "error500" });
      const error500 = await generateMany(user.id, PER_MODE);
      answers = [...down, ...error500];

      // During the outage: every response reached the function and is kept in the spool, verbatim.
      assert.deepEqual(
        answers.map((a) => `${a.status}:${a.processingStatus}`),
        answers.map(() => "201:raw_spooled"),
        "Claude answered, so every generation is accepted and spooled",
      );
      const spooled = await sql()`
      select s.raw_sha256 = c.raw_sha256 as same_sha, s.raw_size = octet_length(s.raw) as same_size,
             encode(sha256(s.raw), 'hex') = s.raw_sha256 as bytes_match, c.processing_status
        from public.raw_response_spool s join public.conversations c using (conversation_id)
       where s.user_id = ${user.id}`;
      assert.equal(spooled.length, 2 * PER_MODE, "one spool row per generation");
      for (const s of spooled) {
        assert.deepEqual(
          [s.same_sha, s.same_size, s.bytes_match, s.processing_status],
          [true, true, true, "raw_spooled"],
        );
      }

      // A sweep while Storage is still down: the flush fails, the rows are deferred, nothing is dropped.
      await sql()`select private.sweep_conversations(p_grace => interval '0 seconds')`;
      await waitUntil(async () => {
        const [r] = await sql()`
        select count(*) filter (where last_error like 'Cannot upload the spooled raw response%'
                                  and next_attempt_at > now())::int as deferred,
               count(*)::int as n
          from public.raw_response_spool where user_id = ${user.id}`;
        return r.deferred === 2 * PER_MODE && r.n === 2 * PER_MODE;
      }, "the failed flush to defer every spool row");
      outageMs = performance.now() - outage;
      const [d] = await sql()`
      select extract(epoch from min(next_attempt_at) - now())::int as s
        from public.raw_response_spool where user_id = ${user.id}`;
      deferredS = d.s;
    } finally {
      await healStack();
    }

    // Storage is back. The deferral (30 s · 2ⁿ) is moved to now instead of waited for; the sweeper does the rest.
    const recovery = await settle(user.id, { fastForward: true });
    const rows = await assertNothingLost(user.id, answers);
    assert.deepEqual(rows.map((r) => r.processing_status), answers.map(() => "completed"));
    report("storage_down", {
      generations: answers.length,
      answer_ms_max: roundMs(Math.max(...answers.map((a) => a.ms))),
      outage_ms: roundMs(outageMs),
      deferred_s: deferredS,
      recovery_ms: roundMs(recovery.ms),
      sweeps: recovery.sweeps,
      fast_forwarded: recovery.fastForwarded,
    });
  },
);
