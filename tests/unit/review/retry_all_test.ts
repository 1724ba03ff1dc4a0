/**
 * runRetryAll's batching contract: bounded work per call, a cursor that always moves, counts that add up, and
 * the dry run. The rows and rules are the in-memory world's; the handler tests cover the HTTP side.
 */
import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";
import { parseConversation } from "../../../shared/parse_flow/parse_conversation.ts";
import { reparse } from "../../../shared/review/reparse.ts";
import {
  parseRetryAllRequest,
  type RetryAllDeps,
  type RetryAllRequest,
  runRetryAll,
} from "../../../shared/review/retry_all.ts";
import { ALICE, BOB, OLD_VERSION, PROSE_RAW, quietLogs, QUOTES_RAW, World } from "./_world.ts";

quietLogs();

function request(overrides: Partial<RetryAllRequest> = {}): RetryAllRequest {
  return { ...parseRetryAllRequest({}), ...overrides };
}

function deps(w: World, overrides: Partial<RetryAllDeps> = {}): RetryAllDeps & { calls: string[] } {
  const calls: string[] = [];
  const flow = w.flow();
  return {
    repo: w.repo,
    parserVersion: PARSER_VERSION,
    reparse: (id) => {
      calls.push(id);
      return reparse({ repo: w.repo, flow }, { userId: null }, id, "retry_all");
    },
    clock: { now: () => new Date(), monotonic: () => 0, sleep: () => Promise.resolve() },
    budgetMs: 60_000,
    calls,
    ...overrides,
  };
}

async function fill(w: World, n: number, userId = ALICE, raw = QUOTES_RAW): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await w.failedItem(userId, raw));
  return ids;
}

Deno.test("parseRetryAllRequest() defaults: no force, no dry run, 100 per call in batches of 20", () => {
  assert.deepEqual(parseRetryAllRequest(undefined), {
    force: false,
    dryRun: false,
    since: null,
    userId: null,
    limit: 100,
    batchSize: 20,
    cursor: null,
    preview: false,
  });
  assert.throws(() => parseRetryAllRequest({ limit: 501 }), (e: unknown) => e instanceof AppError);
});

Deno.test("runRetryAll() works oldest first in batches and stops at the per-call limit with a cursor", async () => {
  const w = new World();
  const ids = await fill(w, 7);
  const d = deps(w);
  const first = await runRetryAll(d, request({ limit: 5, batchSize: 2 }));
  assert.equal(first.processed, 5);
  assert.deepEqual(d.calls, ids.slice(0, 5), "oldest first, each once");
  assert.equal(first.stopped, "limit");
  assert.equal(first.remaining, 2);
  assert.ok(first.next_cursor);
  assert.equal(first.candidates.total, 7);

  const second = await runRetryAll(d, request({ limit: 5, batchSize: 2, cursor: first.next_cursor }));
  assert.equal(second.processed, 2);
  assert.deepEqual(d.calls, ids, "the second call continues where the first stopped");
  assert.equal(second.stopped, "done");
  assert.equal(second.next_cursor, null);
  assert.equal(first.results.completed + second.results.completed, 7);
});

Deno.test("runRetryAll() with force makes progress through items that fail again (the cursor moves)", async () => {
  const w = new World();
  const ids = await fill(w, 5, ALICE, PROSE_RAW);
  const d = deps(w);
  let cursor: string | null = null;
  let calls = 0;
  do {
    const r = await runRetryAll(d, request({ force: true, limit: 2, batchSize: 2, cursor }));
    cursor = r.next_cursor;
    calls++;
  } while (cursor !== null && calls < 10);
  assert.equal(calls, 3);
  assert.deepEqual(d.calls, ids, "each failing item re-parsed exactly once");
});

Deno.test("runRetryAll() stops after the time budget but always finishes at least one batch", async () => {
  const w = new World();
  await fill(w, 6);
  let now = 0;
  const d = deps(w, {
    clock: { now: () => new Date(), monotonic: () => (now += 1000), sleep: () => Promise.resolve() },
    budgetMs: 1,
  });
  const r = await runRetryAll(d, request({ batchSize: 2 }));
  assert.equal(r.processed, 2);
  assert.equal(r.stopped, "time_budget");
  assert.equal(r.remaining, 4);
  assert.ok(r.next_cursor);
});

Deno.test("runRetryAll() dry run counts candidates by version and outcome and changes nothing", async () => {
  const w = new World();
  await fill(w, 2);
  await fill(w, 1, BOB, PROSE_RAW);
  const d = deps(w);
  const r = await runRetryAll(d, request({ dryRun: true }));
  assert.equal(r.stopped, "dry_run");
  assert.deepEqual(r.candidates.by_parser_version, { [OLD_VERSION]: 3 });
  assert.deepEqual(r.candidates.by_outcome, { failed: 3 });
  assert.equal(d.calls.length, 0);
});

Deno.test("runRetryAll() scopes by user_id and since", async () => {
  const w = new World();
  await w.failedItem(ALICE, QUOTES_RAW, { createdAt: "2025-11-01T00:00:00.000000Z" });
  const recentAlice = await w.failedItem(ALICE, QUOTES_RAW, { createdAt: "2025-11-21T00:00:00.000000Z" });
  await w.failedItem(BOB, QUOTES_RAW, { createdAt: "2025-11-21T00:00:00.000000Z" });
  const d = deps(w);
  const r = await runRetryAll(d, request({ userId: ALICE, since: new Date("2025-11-20T00:00:00Z") }));
  assert.deepEqual(d.calls, [recentAlice]);
  assert.equal(r.processed, 1);
});

Deno.test("runRetryAll() refuses a cursor after the parser version changed (start again)", async () => {
  const w = new World();
  await fill(w, 3);
  const first = await runRetryAll(deps(w), request({ limit: 1, force: true }));
  await assert.rejects(
    runRetryAll(
      deps(w, { parserVersion: "2099.1.1" }),
      request({ limit: 1, force: true, cursor: first.next_cursor }),
    ),
    (e: unknown) => e instanceof AppError && e.code === "bad_request",
  );
});

Deno.test("runRetryAll() records a row another worker took in between as skipped, not as a failure", async () => {
  const w = new World();
  const [id] = await fill(w, 1);
  const flow = w.flow();
  const d = deps(w, {
    reparse: async (cid) => {
      // The sweeper's parse wins the claim between the requeue and ours.
      const requeued = await w.repo.requeue({ userId: null }, cid, w.now);
      assert.equal(requeued, null);
      await w.queue.claim(cid, w.now);
      return await parseConversation(flow, cid, "retry_all");
    },
  });
  const r = await runRetryAll(d, request());
  assert.equal(r.results.skipped, 1);
  assert.equal(r.items[0].conversation_id, id);
  assert.equal(r.items[0].reason, "not_claimable");
});

Deno.test("runRetryAll() dry run with preview lists a page of candidates with a cursor and changes nothing", async () => {
  const w = new World();
  const ids = await fill(w, 3);
  const d = deps(w);
  const snapshot = async () =>
    JSON.stringify(await Promise.all(ids.map((id) => w.repo.get({ userId: null }, id))));
  const before = await snapshot();
  const first = await runRetryAll(d, request({ dryRun: true, preview: true, limit: 2 }));
  assert.equal(first.stopped, "dry_run");
  assert.deepEqual(first.preview?.map((p) => p.conversation_id), ids.slice(0, 2));
  assert.equal(first.preview?.[0].parser_version, OLD_VERSION);
  assert.equal(first.preview?.[0].processing_status, "parse_failed");
  assert.equal(first.preview?.[0].outcome, "failed");
  assert.match(first.preview?.[0].raw_response_path ?? "", /^raw\//);
  assert.equal(first.remaining, 1);
  assert.notEqual(first.next_cursor, null);
  const second = await runRetryAll(
    d,
    request({ dryRun: true, preview: true, limit: 2, cursor: first.next_cursor }),
  );
  assert.deepEqual(second.preview?.map((p) => p.conversation_id), ids.slice(2));
  assert.equal(second.next_cursor, null);
  assert.deepEqual(d.calls, [], "a preview re-parses nothing");
  assert.equal(await snapshot(), before);
  assert.throws(() => parseRetryAllRequest({ preview: true }), /preview needs dry_run/);
});
