import assert from "node:assert/strict";
import { handleCollectBatches } from "../../../shared/batch/handle_collect_batches.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { FakeStore } from "../parse_flow/_fakes.ts";
import { clock, FakeBatchApi, FakeBatchStore, settings } from "./_fakes.ts";

Deno.test("collect-batches takes the service key only and answers the run's summary", async () => {
  const fetch = serveHandler(
    handleCollectBatches({
      store: new FakeBatchStore(),
      api: new FakeBatchApi(),
      results: new FakeStore(),
      raw: new FakeStore(),
      clock,
      settings,
      serviceKeys: ["sb_secret_test"],
    }),
    "collect-batches",
  );
  const url = "http://fn.test/functions/v1/collect-batches";
  assert.equal((await fetch(new Request(url, { method: "POST" }))).status, 401);
  const res = await fetch(
    new Request(url, { method: "POST", headers: { authorization: "Bearer sb_secret_test" } }),
  );
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { lost_submits_found: 0, stale_submits_failed: 0, batches: [] });
  assert.equal((await fetch(new Request(url, { method: "PUT" }))).status, 405);
  const dry = await fetch(
    new Request(url, {
      method: "POST",
      headers: { authorization: "Bearer sb_secret_test", "content-type": "application/json" },
      body: '{"dry_run":true}',
    }),
  );
  assert.deepEqual(await dry.json(), { dry_run: true, open_batches: 0 });
});
