/**
 * Fault: the batch collector under failure (docs/BATCHES.md "Recover by hand", docs/FAULTS.md). Each test
 * submits a batch with the stand-in's `mixed` behaviours, ends it at the stand-in, injects a fault while the
 * collector function works on it, heals, and runs the collector again until the batch is collected. The end
 * is always the same: rows = requests, every row terminal, raw objects = succeeded results with their recorded
 * sha256 (no duplicate, no lost result).
 *
 *   - Storage down while the results file is stored and while it is split (the results file stays the record)
 *   - the collector's worker SIGKILLed halfway through the results file
 *   - PostgreSQL restarted (fast) halfway through the results file
 *   - the results download cut after 10 lines
 */
import assert from "node:assert/strict";
import { isExternalDatabase } from "../../../local/paths.ts";
import {
  healStack,
  report,
  restartPostgres,
  roundMs,
  setFaults,
  setStandinBehavior,
  waitUntil,
} from "../../support/faults.ts";
import { createTestUser, sql, standinAdmin } from "../../support/stack.ts";
import {
  assertBatchEnded,
  batchState,
  collect,
  collectUntilDone,
  endAtStandin,
  submit,
  type Submitted,
} from "../batch/_batch.ts";

function clusterTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, fn, ignore: isExternalDatabase(), sanitizeResources: false, sanitizeOps: false });
}

const N = 300;

async function endedBatch(userId: string): Promise<Submitted> {
  await setStandinBehavior("mixed");
  const batch = await submit(userId, N);
  await endAtStandin(batch.anthropic_batch_id);
  return batch;
}

async function rawStored(userId: string): Promise<number> {
  const [{ n }] = await sql()`select count(*)::int as n from public.conversations
                               where user_id = ${userId} and raw_sha256 is not null`;
  return n;
}

clusterTest(
  "fault: Storage down while the collector stores and splits the results → nothing lost",
  async () => {
    const user = await createTestUser();
    let batch: Submitted;
    try {
      batch = await endedBatch(user.id);
      await setFaults({ storage: "down" });
      const run = await collect();
      assert.equal(run.status, 200);
      assert.equal(
        (await batchState(batch.batch_id)).state,
        "ended",
        "no results file stored, nothing split",
      );
      await setFaults({ storage: "up" });
      // Storage goes down again once the split has begun.
      const running = collect();
      await waitUntil(async () => (await rawStored(user.id)) > 0, "the split to begin", 60_000);
      await setFaults({ storage: "down" });
      await running;
      await setFaults({ storage: "up" });
    } finally {
      await healStack();
    }
    const runs = await collectUntilDone(batch!.batch_id);
    const tally = await assertBatchEnded(user.id, batch!);
    report("batch collector: Storage down", { requests: N, runs_after_heal: runs, ...tally });
  },
);

clusterTest(
  "fault: the collector killed halfway through a results file → the next run resumes, no duplicate",
  async () => {
    const user = await createTestUser();
    let batch: Submitted;
    let killedAt = 0;
    try {
      batch = await endedBatch(user.id);
      const running = collect().catch(() => null);
      await waitUntil(async () => (await rawStored(user.id)) > 0, "the split to begin", 60_000);
      killedAt = await rawStored(user.id);
      const view = await setFaults({ kill_function: "collect-batches" });
      assert.ok((view.killed ?? 0) >= 1, "a collector worker was running and was killed");
      await running;
    } finally {
      await healStack();
    }
    const runs = await collectUntilDone(batch!.batch_id);
    const tally = await assertBatchEnded(user.id, batch!);
    report("batch collector: killed", {
      requests: N,
      rows_recorded_at_kill: killedAt,
      runs_after: runs,
      ...tally,
    });
  },
);

clusterTest(
  "fault: PostgreSQL restarted halfway through a results file → the collector finishes",
  async () => {
    const user = await createTestUser();
    let batch: Submitted;
    let restartMs = 0;
    try {
      batch = await endedBatch(user.id);
      const running = collect().catch(() => null);
      await waitUntil(async () => (await rawStored(user.id)) > 0, "the split to begin", 60_000);
      restartMs = await restartPostgres("fast");
      await running;
    } finally {
      await healStack();
    }
    const runs = await collectUntilDone(batch!.batch_id);
    const tally = await assertBatchEnded(user.id, batch!);
    report("batch collector: PostgreSQL restart", {
      requests: N,
      restart_ms: roundMs(restartMs),
      runs,
      ...tally,
    });
  },
);

clusterTest(
  "fault: the results download cut after 10 lines → nothing stored from it; the next download is whole",
  async () => {
    const user = await createTestUser();
    let batch: Submitted;
    try {
      batch = await endedBatch(user.id);
      await standinAdmin("batches/fault", {
        method: "POST",
        body: JSON.stringify({ cut_after_lines: 10, times: 1, batch_id: batch.anthropic_batch_id }),
      });
      await collect();
      const after = await batchState(batch.batch_id);
      assert.equal(after.state, "ended", "a cut download is not stored");
      assert.ok(after.last_error, "the failed download is recorded on the batch");
      assert.equal(await rawStored(user.id), 0);
    } finally {
      await healStack();
      await standinAdmin("batches/fault", { method: "POST", body: JSON.stringify({ times: 0 }) }).catch(
        () => {},
      );
    }
    await collectUntilDone(batch!.batch_id);
    const tally = await assertBatchEnded(user.id, batch!);
    report("batch collector: download cut", { requests: N, ...tally });
  },
);
