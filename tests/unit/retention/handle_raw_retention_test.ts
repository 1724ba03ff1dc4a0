import assert from "node:assert/strict";
import type { ObjectStore } from "../../../shared/pipeline/object_store.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { handleRawRetention } from "../../../shared/retention/handle_raw_retention.ts";
import type { RetentionStore } from "../../../shared/retention/retention_store.ts";

const KEY = "service-key-for-retention-tests-00";

/** Every store call is recorded; the fake answers "nothing eligible". */
function setup(retentionDays: number | null) {
  const calls: string[] = [];
  const store: RetentionStore = {
    candidates: () => (calls.push("candidates"), Promise.resolve([])),
    totals: () => (calls.push("totals"), Promise.resolve({ eligible: 0, bytes: 0 })),
    markBatch: () => (calls.push("markBatch"), Promise.resolve([])),
    unmark: () => (calls.push("unmark"), Promise.resolve(0)),
    unfinished: () => (calls.push("unfinished"), Promise.resolve([])),
  };
  const objects: ObjectStore = {
    upload: () => Promise.resolve({ ok: true }),
    download: () => Promise.resolve({ ok: false, kind: "not_found" }),
    remove: () => (calls.push("remove"), Promise.resolve({ ok: true, removed: [] })),
    signedUrl: () => Promise.resolve({ ok: false, message: "unused" }),
  };
  const handler = serveHandler(
    handleRawRetention({
      store,
      objects,
      config: { retentionDays, batchSize: 100, maxBatches: 10 },
      serviceKeys: [KEY],
    }),
    "raw-retention",
  );
  return { calls, handler };
}

function post(body: string | null, key: string | null = KEY): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  return new Request("http://localhost/functions/v1/raw-retention", { method: "POST", headers, body });
}

Deno.test("handleRawRetention() requires the service key", async () => {
  const { calls, handler } = setup(30);
  assert.equal((await handler(post("{}", null))).status, 401);
  assert.equal((await handler(post("{}", "wrong-key-wrong-key"))).status, 403);
  assert.deepEqual(calls, []);
});

Deno.test("handleRawRetention() validates the body", async () => {
  const { calls, handler } = setup(30);
  for (const body of ['{"limit": 0}', '{"limit": 1.5}', '{"dry_run": 1}', '{"days": 3}']) {
    const res = await handler(post(body));
    assert.equal(res.status, 400, body);
    assert.equal((await res.json()).error.code, "invalid_body");
  }
  assert.deepEqual(calls, []);
});

Deno.test("handleRawRetention() with retention off answers enabled: false and touches nothing", async () => {
  const { calls, handler } = setup(null);
  const res = await handler(post("{}"));
  assert.equal(res.status, 200);
  const report = await res.json();
  assert.equal(report.enabled, false);
  assert.equal(report.deleted, 0);
  assert.deepEqual(calls, []);
});

Deno.test("handleRawRetention() dry run reads only; a real run marks and removes", async () => {
  const dry = setup(30);
  const res = await dry.handler(post('{"dry_run": true, "limit": 10}'));
  assert.equal((await res.json()).dry_run, true);
  assert.deepEqual(dry.calls, ["totals", "candidates"]);
  const real = setup(30);
  await real.handler(post("{}"));
  assert.deepEqual(real.calls, ["unfinished", "markBatch"]);
});
