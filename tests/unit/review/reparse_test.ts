/**
 * reparse(): the review side only requeues (scoped, guarded) and then hands the row to the parse flow's own
 * parseConversation; a refusal or a database outage is a result, not a crash.
 */
import assert from "node:assert/strict";
import { reparse } from "../../../shared/review/reparse.ts";
import type { ReviewRepo } from "../../../shared/review/repo.ts";
import { ALICE, BOB, PROSE_RAW, quietLogs, QUOTES_RAW, World } from "./_world.ts";
import { InfraFailure } from "../../../shared/pipeline/failures.ts";

quietLogs();

Deno.test("reparse() runs the current parser through the parse flow and records triggered_by", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const before = w.attemptsOf(id).length;
  const result = await reparse({ repo: w.repo, flow: w.flow() }, { userId: ALICE }, id, "review");
  assert.equal(result.result, "completed");
  assert.equal(w.row(id).processing_status, "completed");
  const attempts = w.attemptsOf(id);
  assert.equal(attempts.length, before + 1, "one attempt, written by the parse flow");
  assert.equal(attempts.at(-1)?.triggered_by, "review");
});

Deno.test("reparse() answers parse_failed when the current parser fails too; the item stays in review", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const result = await reparse({ repo: w.repo, flow: w.flow() }, { userId: null }, id, "retry_all");
  assert.equal(result.result, "parse_failed");
  assert.equal(w.row(id).requires_manual_review, true);
  assert.equal(w.attemptsOf(id).at(-1)?.triggered_by, "retry_all");
});

Deno.test("reparse() refuses another user's item as not_found and changes nothing", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const snapshot = structuredClone(w.row(id));
  const attempts = w.attemptsOf(id).length;
  const result = await reparse({ repo: w.repo, flow: w.flow() }, { userId: BOB }, id, "review");
  assert.deepEqual(result, { conversation_id: id, result: "refused", reason: "not_found" });
  assert.deepEqual(w.row(id), snapshot);
  assert.equal(w.attemptsOf(id).length, attempts);
});

Deno.test("reparse() refuses an item that left review, or whose raw response is gone", async () => {
  const w = new World();
  const done = await w.failedItem(ALICE, QUOTES_RAW);
  await reparse({ repo: w.repo, flow: w.flow() }, { userId: ALICE }, done, "review");
  const again = await reparse({ repo: w.repo, flow: w.flow() }, { userId: ALICE }, done, "review");
  assert.deepEqual(again, { conversation_id: done, result: "refused", reason: "not_in_review" });

  const gone = await w.failedItem(ALICE, QUOTES_RAW);
  w.row(gone).raw_deleted_at = w.row(gone).created_at;
  const result = await reparse({ repo: w.repo, flow: w.flow() }, { userId: ALICE }, gone, "review");
  assert.deepEqual(result, { conversation_id: gone, result: "refused", reason: "raw_unavailable" });
});

Deno.test("reparse() turns a transient database error in the requeue into error/database_unavailable", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const down: ReviewRepo = {
    ...w.repo,
    // What the Postgres adapter throws once it has translated the driver's ECONNREFUSED at its edge.
    requeue: () => Promise.reject(new InfraFailure("database_unavailable", "connection refused")),
  };
  const result = await reparse({ repo: down, flow: w.flow() }, { userId: ALICE }, id, "review");
  assert.deepEqual(result, { conversation_id: id, result: "error", error_code: "database_unavailable" });
  assert.equal(w.row(id).requires_manual_review, true, "nothing changed");
});

Deno.test("reparse() rethrows a requeue error that is not a database outage (a bug must surface)", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const broken: ReviewRepo = { ...w.repo, requeue: () => Promise.reject(new TypeError("bug")) };
  await assert.rejects(reparse({ repo: broken, flow: w.flow() }, { userId: ALICE }, id, "review"), TypeError);
});
