/**
 * The collector's streamed results file against the real local Storage API and PostgreSQL (the Batches API is
 * the unit tests' fake, serving the file in small chunks): parts stored as they arrive, a download cut between
 * parts resumed without a duplicate object, lines across chunk boundaries whole in their parts, and a corrupted
 * stored part refused until it is whole again.
 */
import assert from "node:assert/strict";
import { postgresBatchStore } from "../../../shared/adapters/postgres_batch_store.ts";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";
import { BATCH_DEFAULTS } from "../../../shared/batch/batch_env.ts";
import { collectBatch, type CollectDeps } from "../../../shared/batch/collect_batches.ts";
import { RESULTS_BUCKET } from "../../../shared/batch/deps_from_env.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";
import { createTestUser, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";
import { FakeBatchApi, line } from "../../unit/batch/_fakes.ts";
import { batchConversation as conv, newBatch } from "./_helpers.ts";

async function setup(n: number) {
  const store = postgresBatchStore(sql());
  const user = await createTestUser();
  const convs = Array.from({ length: n }, () => conv(user.id));
  const batch = newBatch(user.id, { requestCount: n });
  const batchId = batch.batchId;
  await store.insertBatch(batch, convs);
  await store.markSubmitted(batchId, {
    id: "msgbatch_parts_" + batchId,
    expiresAt: new Date(),
    createdAt: new Date(),
  });
  const api = new FakeBatchApi();
  api.status = "ended";
  api.chunkBytes = 333; // chunks end mid-line: lines cross chunk boundaries
  api.results = convs.map((c) => line(c.conversationId, "succeeded"));
  const env = stackEnv();
  const deps: CollectDeps = {
    store,
    api,
    results: supabaseObjectStore(env.SUPABASE_URL, serviceKey(), RESULTS_BUCKET),
    raw: supabaseObjectStore(env.SUPABASE_URL, serviceKey()),
    clock: systemClock,
    settings: { ...BATCH_DEFAULTS, partBytes: 2048 },
  };
  const storedParts = async () =>
    (await sql()`select name from storage.objects where bucket_id = ${RESULTS_BUCKET}
                   and name like ${`${user.id}/${batchId}/%`} order by name`).map((r) => String(r.name));
  const statuses = async () =>
    (await sql()`select processing_status as s, count(*)::int as n from public.conversations
                   where batch_id = ${batchId}::uuid group by 1`).map((r) => `${r.s}:${r.n}`);
  const rawObjects = async () =>
    Number(
      (await sql()`select count(*)::int as n from storage.objects where bucket_id = 'conversation-files'
                         and name like ${`raw/${user.id}/%`}`)[0].n,
    );
  return { store, api, deps, batchId, convs, storedParts, statuses, rawObjects };
}

stackTest(
  "collect stored parts: a download cut between parts resumes with the same parts, no duplicate",
  async () => {
    const { store, api, deps, batchId, storedParts, statuses, rawObjects } = await setup(30);
    api.cutAfterBytes = 5000; // two 2 KiB parts stored, then the connection goes
    const first = await collectBatch(deps, (await store.record(batchId))!);
    assert.equal(first.outcome, "retry");
    const before = await storedParts();
    assert.equal(before.length, 2);
    assert.equal((await store.record(batchId))!.state, "ended", "nothing recorded before the whole file");
    assert.equal(await rawObjects(), 0);
    api.cutAfterBytes = null;
    assert.equal((await collectBatch(deps, (await store.record(batchId))!)).outcome, "collected");
    const b = (await store.record(batchId))!;
    const after = await storedParts();
    assert.deepEqual(
      after,
      b.resultsParts!.map((p) => p.path).sort(),
      "every stored part is in the record, once",
    );
    for (const p of before) assert.ok(after.includes(p), "the first download's parts are reused");
    // The parts, read back, are the file; each ends at a line end, every line whole.
    const file = new TextEncoder().encode(api.results!.map((l) => l + "\n").join(""));
    assert.equal(b.resultsSha256, await sha256Hex(file));
    let joined = "";
    for (const p of b.resultsParts!) {
      const got = await deps.results.download(p.path);
      assert.ok(got.ok);
      const text = new TextDecoder().decode(got.bytes);
      assert.ok(text.endsWith("\n"));
      for (const l of text.trimEnd().split("\n")) JSON.parse(l);
      joined += text;
    }
    assert.equal(joined, new TextDecoder().decode(file));
    assert.equal(await rawObjects(), 30);
    // Every row left batch_queued through its raw object (the storage trigger; parse may have begun since).
    for (const s of await statuses()) assert.match(s, /^(raw_stored|parsing|completed|parse_failed):/);
  },
);

stackTest(
  "collect stored parts: a corrupted stored part is refused; whole again, the batch is collected",
  async () => {
    const { store, deps, batchId, rawObjects } = await setup(12);
    // Stored, then the run's budget stops it before the split.
    assert.equal((await collectBatch(deps, (await store.record(batchId))!, -1)).outcome, "retry");
    const b = (await store.record(batchId))!;
    assert.equal(b.state, "results_stored");
    const victim = b.resultsParts![1].path;
    const good = await deps.results.download(victim);
    assert.ok(good.ok);
    const bad = good.bytes.slice();
    bad[20] ^= 1;
    assert.ok(
      (await deps.results.upload(victim, bad, { upsert: true, contentType: "application/x-ndjson" })).ok,
    );
    const out = await collectBatch(deps, b);
    assert.equal(out.outcome, "retry");
    assert.match((out as { error: string }).error, /sha256 differs/);
    assert.equal((await store.record(batchId))!.state, "results_stored");
    assert.ok(await rawObjects() < 12, "nothing of the corrupted part or after it is split");
    assert.ok(
      (await deps.results.upload(victim, good.bytes, { upsert: true, contentType: "application/x-ndjson" }))
        .ok,
    );
    assert.equal((await collectBatch(deps, (await store.record(batchId))!)).outcome, "collected");
    assert.equal(await rawObjects(), 12);
  },
);
