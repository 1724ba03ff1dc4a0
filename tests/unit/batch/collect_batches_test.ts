import assert from "node:assert/strict";
import {
  collectBatch,
  collectBatches,
  type CollectDeps,
  resultsPartPath,
} from "../../../shared/batch/collect_batches.ts";
import type { RemoteBatch } from "../../../shared/batch/batch_api.ts";
import type { NewConversation } from "../../../shared/generate/conversation_repo.ts";
import { rawObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { FakeStore } from "../parse_flow/_fakes.ts";
import { clock, fakeBatch, FakeBatchApi, FakeBatchStore, line, settings, USER } from "./_fakes.ts";

const conv = (id: string): NewConversation => ({
  conversationId: id,
  userId: USER,
  personaId: "p",
  emotionalArcId: "a",
  trainingTopicId: "t",
  templateId: null,
  personaKey: "pk",
  emotionalArcKey: "ak",
  topicKey: "tk",
  tier: "template",
  snapshot: { model: "claude-sonnet-4-5", max_tokens: 4096, system_prompt: "sys", prompt: "p" },
  model: "claude-sonnet-4-5",
  idempotencyKey: null,
  requestHash: "0".repeat(64),
});

async function setup(n: number) {
  const store = new FakeBatchStore();
  const api = new FakeBatchApi();
  const results = new FakeStore();
  const raw = new FakeStore();
  const ids = Array.from({ length: n }, () => crypto.randomUUID());
  await store.insertBatch(fakeBatch("b1", { requestCount: n, tokensReserved: n * 4096 }), ids.map(conv));
  await store.markSubmitted("b1", { id: "msgbatch_1", expiresAt: new Date(), createdAt: new Date() });
  const deps: CollectDeps = { store, api, results, raw, clock, settings };
  // The storage trigger: a raw object marks its row raw_stored.
  const upload = raw.upload.bind(raw);
  raw.upload = async (path, bytes, opts) => {
    const r = await upload(path, bytes, opts);
    if (r.ok) store.markRawStored(path.split("/")[2].replace(".json", ""));
    return r;
  };
  return { store, api, results, raw, ids, deps };
}

Deno.test("collectBatch() waits while the batch is in progress: nothing stored, nothing changed", async () => {
  const { store, results, deps } = await setup(2);
  const out = await collectBatch(deps, (await store.record("b1"))!);
  assert.deepEqual(out, { batch_id: "b1", outcome: "waiting", state: "in_progress" });
  assert.equal(results.objects.size, 0);
});

Deno.test("collectBatch() stores the results file first, then splits it: raw objects, failures, re-queue, missing", async () => {
  const { store, api, results, raw, ids, deps } = await setup(6);
  api.status = "ended";
  // ids[5] has no line: missing. Lines in no particular order.
  api.results = [
    line(ids[3], "canceled"),
    line(ids[0], "succeeded"),
    line(ids[2], "errored"),
    line(ids[1], "succeeded"),
    line(ids[4], "expired"),
    line("not-a-conversation", "succeeded"),
  ];
  const out = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(out.outcome, "collected");
  const b = (await store.record("b1"))!;
  assert.equal(b.state, "collected");
  // The results file, stored in parts that are the downloaded bytes, sha256 recorded.
  const file = new TextEncoder().encode(api.results.map((l) => l + "\n").join(""));
  assert.equal(b.resultsSha256, await sha256Hex(file));
  const joined = b.resultsParts!.map((p) => results.text(p.path)).join("");
  assert.equal(joined, new TextDecoder().decode(file));
  assert.ok(b.resultsParts!.length > 1, "1 KiB parts: the file is cut at line ends");
  assert.equal(b.resultsParts![0].path, resultsPartPath(USER, "b1", 0, b.resultsParts![0].sha256));
  // Succeeded → the Message as the raw object where generate stores it, its sha256 and batch-priced cost on the row.
  for (const id of [ids[0], ids[1]]) {
    const stored = raw.objects.get(rawObjectPath(USER, id))!;
    const message = JSON.parse(new TextDecoder().decode(stored));
    assert.equal(message.usage.service_tier, "batch");
    const row = store.convs.get(id)!;
    assert.equal(row.status, "raw_stored");
    assert.equal(row.sha, await sha256Hex(stored));
    assert.equal(row.costUsd, 0.0165, "1,000 in + 2,000 out at half of $3/$15");
  }
  assert.match(store.convs.get(ids[2])!.error!, /^batch_errored: invalid_request_error: bad params/);
  assert.match(store.convs.get(ids[3])!.error!, /^batch_canceled/);
  assert.equal(store.convs.get(ids[4])!.status, "batch_queued", "expired: re-queued once");
  assert.notEqual(store.convs.get(ids[4])!.batchId, "b1");
  assert.equal(api.created.length, 1);
  assert.deepEqual(api.created[0].map((r) => r.custom_id), [ids[4]]);
  assert.match(store.convs.get(ids[5])!.error!, /^batch_result_missing/);
  assert.equal(store.batches.get("b1")!.missing, 1);
  assert.equal(store.batches.get("b1")!.collectedCounts.unknown, 1);
  assert.equal(raw.objects.size, 2, "a raw object per succeeded result, nothing else");
});

Deno.test("collectBatch() with a cut download stores nothing and retries; the next run collects", async () => {
  const { store, api, results, raw, ids, deps } = await setup(2);
  api.status = "ended";
  api.results = [line(ids[0], "succeeded"), line(ids[1], "succeeded")];
  api.failDownload = true;
  const first = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(first.outcome, "retry");
  assert.equal(results.objects.size, 0);
  assert.equal(raw.objects.size, 0);
  api.failDownload = false;
  const second = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(second.outcome, "collected");
  assert.equal(raw.objects.size, 2);
});

Deno.test("collectBatch() with a short file downloads again before splitting it as it is", async () => {
  const { store, api, ids, deps } = await setup(3);
  api.status = "ended";
  api.results = [line(ids[0], "succeeded")];
  // The fake reports 0 finished requests, so teach it to expect 3.
  const retrieve = api.retrieve.bind(api);
  api.retrieve = async (id) => {
    const r = await retrieve(id);
    if (r.ok) r.value.counts = { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 };
    return r;
  };
  for (let i = 0; i < 3; i++) {
    assert.equal((await collectBatch(deps, (await store.record("b1"))!)).outcome, "retry");
  }
  const last = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(last.outcome, "collected");
  assert.equal(store.batches.get("b1")!.missing, 2, "what never came is reported missing");
});

Deno.test("collectBatch() with Storage down while splitting resumes from the stored file: no duplicate, no loss", async () => {
  const { store, api, raw, ids, deps } = await setup(4);
  api.status = "ended";
  api.results = ids.map((id) => line(id, "succeeded"));
  let uploads = 0;
  const upload = raw.upload.bind(raw);
  raw.upload = (path, bytes, opts) =>
    ++uploads > 2
      ? Promise.resolve({ ok: false, kind: "unavailable", message: "storage is down" })
      : upload(path, bytes, opts);
  const first = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(first.outcome, "retry");
  assert.equal(store.batches.get("b1")!.state, "results_stored");
  assert.equal(raw.objects.size, 2);
  // The API forgets the results (archived): the stored file is the source now.
  api.results = null;
  raw.upload = upload;
  const second = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(second.outcome, "collected");
  assert.equal(raw.objects.size, 4);
  if (second.outcome === "collected") assert.equal(second.tally.already_done, 2);
  for (const id of ids) assert.equal(store.convs.get(id)!.status, "raw_stored");
});

Deno.test("collectBatch() fails an expired request of a re-queued batch instead of re-queueing it again", async () => {
  const { store, api, ids, deps } = await setup(1);
  store.batches.get("b1")!.requeueDepth = 1;
  api.status = "ended";
  api.results = [line(ids[0], "expired")];
  await collectBatch(deps, (await store.record("b1"))!);
  assert.match(store.convs.get(ids[0])!.error!, /^batch_expired: .*re-queued 1 time/);
  assert.equal(api.created.length, 0);
});

Deno.test("collectBatch() gives a re-queue's carried budget back when Anthropic refuses the new batch", async () => {
  const { store, api, ids, deps } = await setup(2);
  store.requeueCarriesPerRequest = 4096;
  api.status = "ended";
  api.results = [line(ids[0], "expired"), line(ids[1], "expired")];
  api.failCreate = true;
  await collectBatch(deps, (await store.record("b1"))!);
  assert.deepEqual(store.released, [8192], "the two requests' reservation, given back once");
  for (const id of ids) assert.match(store.convs.get(id)!.error!, /^batch_expired: re-queue refused/);
});

Deno.test("collectBatches() runs the open batches and reports each", async () => {
  const { api, ids, deps } = await setup(1);
  api.status = "ended";
  api.results = [line(ids[0], "succeeded")];
  const summary = await collectBatches(deps);
  assert.equal(summary.batches.length, 1);
  assert.equal(summary.batches[0].outcome, "collected");
  assert.equal((await collectBatches(deps)).batches.length, 0, "a collected batch is no longer open");
});

Deno.test("collectBatch() fails a batch Anthropic no longer knows (404) with its queued conversations", async () => {
  const { store, api, ids, deps } = await setup(2);
  api.lost = true;
  await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(store.batches.get("b1")!.state, "failed");
  for (const id of ids) assert.match(store.convs.get(id)!.error!, /^batch_not_found/);
});

Deno.test("collectBatch() stops starting uploads when the run's budget is spent; the next run finishes", async () => {
  const { store, api, raw, ids, deps } = await setup(3);
  api.status = "ended";
  api.results = ids.map((id) => line(id, "succeeded"));
  const first = await collectBatch(deps, (await store.record("b1"))!, -1);
  assert.equal(first.outcome, "retry");
  assert.equal(
    store.batches.get("b1")!.state,
    "results_stored",
    "the results file is stored before the budget stops",
  );
  assert.equal(raw.objects.size, 0);
  assert.equal((await collectBatch(deps, (await store.record("b1"))!)).outcome, "collected");
  assert.equal(raw.objects.size, 3);
});

Deno.test("collectBatch() cut between parts resumes: stored parts are reused, no duplicate object, nothing lost", async () => {
  const { store, api, results, raw, ids, deps } = await setup(30);
  api.status = "ended";
  api.results = ids.map((id) => line(id, "succeeded"));
  // The first download stops after about two 1 KiB parts (as a worker killed between parts would).
  api.cutAfterBytes = 2500;
  const first = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(first.outcome, "retry");
  assert.match((first as { error: string }).error, /results download failed after 2 part\(s\)/);
  assert.equal(store.batches.get("b1")!.state, "ended", "nothing recorded before the whole file is stored");
  const storedBefore = [...results.objects.keys()];
  assert.equal(storedBefore.length, 2);
  assert.equal(raw.objects.size, 0, "nothing split before the whole file is stored");
  api.cutAfterBytes = null;
  const second = await collectBatch(deps, (await store.record("b1"))!);
  assert.equal(second.outcome, "collected");
  const b = (await store.record("b1"))!;
  // The second download's first parts are the same objects (write-once, same sha256): no duplicate part.
  assert.deepEqual(b.resultsParts!.slice(0, 2).map((p) => p.path), storedBefore);
  assert.equal(results.objects.size, b.resultsParts!.length);
  for (const p of b.resultsParts!) assert.ok(results.text(p.path)!.endsWith("\n"), "parts end at line ends");
  assert.equal(raw.objects.size, 30);
  for (const id of ids) assert.equal(store.convs.get(id)!.status, "raw_stored");
});

Deno.test("collectBatch() refuses a corrupted stored part (sha256 differs) and collects once it is whole again", async () => {
  const { store, api, results, raw, ids, deps } = await setup(30);
  api.status = "ended";
  api.results = ids.map((id) => line(id, "succeeded"));
  // Stored, then the run stops before splitting (its budget is spent).
  assert.equal((await collectBatch(deps, (await store.record("b1"))!, -1)).outcome, "retry");
  const b = (await store.record("b1"))!;
  assert.equal(b.state, "results_stored");
  const victim = b.resultsParts![1].path;
  const good = results.objects.get(victim)!;
  const bad = good.slice();
  bad[10] ^= 1;
  results.objects.set(victim, bad);
  const out = await collectBatch(deps, b);
  assert.equal(out.outcome, "retry");
  assert.match(
    (out as { error: string }).error,
    /stored results part .*part.*: sha256 differs|sha256 differs/,
  );
  assert.equal(store.batches.get("b1")!.state, "results_stored", "not collected from a corrupted file");
  assert.ok(raw.objects.size < 30, "the parts after the corrupted one are not split");
  // Every raw object written so far is a result of the verified first part.
  for (const [path] of raw.objects) {
    assert.ok(results.text(b.resultsParts![0].path)!.includes(path.split("/")[2].replace(".json", "")));
  }
  results.objects.set(victim, good);
  assert.equal((await collectBatch(deps, (await store.record("b1"))!)).outcome, "collected");
  assert.equal(raw.objects.size, 30);
  for (const id of ids) assert.equal(store.convs.get(id)!.status, "raw_stored");
});

function remoteBatch(id: string, requests: number, createdAt: Date): RemoteBatch {
  return {
    id,
    status: "in_progress",
    counts: { processing: requests, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    createdAt,
    expiresAt: new Date(createdAt.getTime() + 86_400_000),
    endedAt: null,
    resultsUrl: null,
  };
}

Deno.test("collectBatches() finds a stale submit's batch at Anthropic (one match) and watches it instead of failing it", async () => {
  const { store, api, ids, deps } = await setup(3);
  // A second batch whose worker died after batches.create, before the id was recorded.
  await store.insertBatch(fakeBatch("b2", { requestCount: 2 }), [
    conv(crypto.randomUUID()),
    conv(crypto.randomUUID()),
  ]);
  store.submitsStale = true;
  const created = store.batches.get("b2")!.createdAt;
  api.listed = [
    remoteBatch("msgbatch_other_size", 5, created), // another request count
    remoteBatch("msgbatch_1", 3, created), // b1's own batch: already recorded
    remoteBatch("msgbatch_lost", 2, new Date(created.getTime() + 2_000)),
    remoteBatch("msgbatch_old", 2, new Date(created.getTime() - 3_600_000)), // too early
  ];
  const summary = await collectBatches(deps);
  assert.equal(summary.lost_submits_found, 1);
  assert.equal(summary.stale_submits_failed, 0);
  const b2 = store.batches.get("b2")!;
  assert.equal(b2.state, "in_progress");
  assert.equal(b2.anthropicBatchId, "msgbatch_lost");
  assert.equal(store.convs.get(ids[0])!.status, "batch_queued", "b1 untouched");
});

Deno.test("collectBatches() fails a stale submit as before when its batch cannot be told apart", async () => {
  const { store, api, deps } = await setup(1);
  store.batches.get("b1")!.state = "submitting";
  store.batches.get("b1")!.anthropicBatchId = null;
  store.submitsStale = true;
  const created = store.batches.get("b1")!.createdAt;
  // Two unrecorded batches of the same size in the window: either could be it.
  api.listed = [remoteBatch("msgbatch_a", 1, created), remoteBatch("msgbatch_b", 1, created)];
  const summary = await collectBatches(deps);
  assert.equal(summary.lost_submits_found, 0);
  assert.equal(summary.stale_submits_failed, 1);
  assert.equal(store.batches.get("b1")!.state, "failed");
});
