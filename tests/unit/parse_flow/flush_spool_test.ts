import assert from "node:assert/strict";
import { rawObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { flushSpool } from "../../../shared/parse_flow/flush_spool.ts";
import { fakeDeps, FakeQueue, FakeStore, flowTest, USER } from "./_fakes.ts";

const A = "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9";
const B = "2c3d4e5f-6071-4829-93a4-b5c6d7e8f901";
const bytes = (s: string) => new TextEncoder().encode(s);

flowTest("flushSpool() uploads spooled bytes write-once and deletes the spool row", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await queue.addSpool(A, bytes('{"id":"msg_a"}'));
  const out = await flushSpool(fakeDeps(queue, store), 10);
  assert.equal(out.uploaded, 1);
  assert.deepEqual(store.uploads[0], {
    path: rawObjectPath(USER, A),
    upsert: false,
    contentType: "application/json",
  });
  assert.equal(store.text(rawObjectPath(USER, A)), '{"id":"msg_a"}');
  assert.deepEqual(queue.spoolFinished, [A]);
});

flowTest(
  "flushSpool() finishes a row whose identical object is already stored (an earlier flush crashed)",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await queue.addSpool(A, bytes('{"id":"msg_a"}'));
    store.objects.set(rawObjectPath(USER, A), bytes('{"id":"msg_a"}'));
    const out = await flushSpool(fakeDeps(queue, store), 10);
    assert.equal(out.already_stored, 1);
    assert.equal(store.uploads.length, 1, "no second upload");
    assert.deepEqual(queue.spoolFinished, [A]);
  },
);

flowTest("flushSpool() replaces different bytes at the raw path with the spooled response", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await queue.addSpool(A, bytes('{"id":"msg_a"}'));
  store.objects.set(rawObjectPath(USER, A), bytes('{"forged":true}'));
  const out = await flushSpool(fakeDeps(queue, store), 10);
  assert.equal(out.replaced, 1);
  assert.equal(store.text(rawObjectPath(USER, A)), '{"id":"msg_a"}');
  assert.equal(store.uploads[1].upsert, true);
});

flowTest("flushSpool() defers rows while Storage is down and keeps their bytes", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await queue.addSpool(A, bytes("a"));
  await queue.addSpool(B, bytes("b"));
  store.uploadFails = "unavailable";
  const out = await flushSpool(fakeDeps(queue, store), 10);
  assert.equal(out.deferred, 2);
  assert.equal(queue.spool.size, 2);
  assert.match(queue.spool.get(A)!.lastError ?? "", /storage is down/);
  assert.equal(queue.spoolFinished.length, 0);
});

flowTest("flushSpool() takes at most the batch size and leaves the rest due", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await queue.addSpool(A, bytes("a"));
  await queue.addSpool(B, bytes("b"));
  const out = await flushSpool(fakeDeps(queue, store), 1);
  assert.equal(out.leased, 1);
  assert.equal(queue.spool.size, 1);
});

flowTest(
  "flushSpool() uploads bytes even when they do not match the spooled sha256 (never drop)",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await queue.addSpool(A, bytes("a"), "f".repeat(64));
    const out = await flushSpool(fakeDeps(queue, store), 10);
    assert.equal(out.uploaded, 1);
    assert.equal(store.text(rawObjectPath(USER, A)), "a");
  },
);
