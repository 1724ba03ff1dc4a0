/**
 * The write-once upload (shared/generate/raw_upload.ts): what may pass later is retried with backoff, a refusal
 * is not, and a 409 is success only when the stored object holds the very same bytes — never an overwrite.
 */
import assert from "node:assert/strict";
import { uploadRaw } from "../../../shared/generate/raw_upload.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { setLogSink } from "../../../shared/log.ts";
import { FakeClock, FakeStore } from "./_fakes.ts";

setLogSink(() => {});

const PATH = "raw/u/c.json";
const bytes = new TextEncoder().encode('{"type":"message"}');
const sha = await sha256Hex(bytes);

function rig(uploadRetries = 3, uploadTimeoutMs = 15_000) {
  const store = new FakeStore();
  const clock = new FakeClock();
  return { store, clock, deps: { store, clock, config: { uploadRetries, uploadTimeoutMs } } };
}

Deno.test("uploadRaw() stores the bytes at the first attempt when Storage answers", async () => {
  const r = rig();
  assert.deepEqual(await uploadRaw(r.deps, PATH, bytes, sha, "c"), {
    ok: true,
    attempts: 1,
    alreadyStored: false,
  });
  assert.deepEqual(r.store.objects.get(PATH), bytes);
});

Deno.test("uploadRaw() retries an unavailable Storage with backoff, then reports the last error", async () => {
  const r = rig();
  r.store.script = [{ ok: false, kind: "unavailable", message: "502" }];
  assert.deepEqual(await uploadRaw(r.deps, PATH, bytes, sha, "c"), {
    ok: true,
    attempts: 2,
    alreadyStored: false,
  });
  const down = rig();
  down.store.always = { ok: false, kind: "unavailable", message: "503 Service Unavailable" };
  assert.deepEqual(await uploadRaw(down.deps, PATH, bytes, sha, "c"), {
    ok: false,
    attempts: 4,
    message: "503 Service Unavailable",
  });
  assert.deepEqual(down.clock.sleeps, [200, 400, 800]);
});

Deno.test("uploadRaw() does not retry a refusal (size, type, permission)", async () => {
  const r = rig();
  r.store.always = { ok: false, kind: "rejected", status: "413", message: "too large" };
  assert.deepEqual(await uploadRaw(r.deps, PATH, bytes, sha, "c"), {
    ok: false,
    attempts: 1,
    message: "Storage refused the upload (413): too large",
  });
});

Deno.test("uploadRaw() takes a 409 over identical bytes as stored and never overwrites other bytes", async () => {
  const same = rig();
  same.store.objects.set(PATH, bytes.slice());
  assert.deepEqual(await uploadRaw(same.deps, PATH, bytes, sha, "c"), {
    ok: true,
    attempts: 1,
    alreadyStored: true,
  });
  const other = rig();
  const theirs = new TextEncoder().encode('{"other":true}');
  other.store.objects.set(PATH, theirs);
  const out = await uploadRaw(other.deps, PATH, bytes, sha, "c");
  assert.deepEqual(out, { ok: false, attempts: 1, message: `a different object already exists at ${PATH}` });
  assert.equal(other.store.objects.get(PATH), theirs);
});

Deno.test("uploadRaw() gives up on an attempt that does not answer within the timeout", async () => {
  const r = rig(0, 1);
  r.store.upload = () => new Promise(() => {});
  assert.deepEqual(await uploadRaw(r.deps, PATH, bytes, sha, "c"), {
    ok: false,
    attempts: 1,
    message: "the upload timed out",
  });
});
