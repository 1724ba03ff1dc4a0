import assert from "node:assert/strict";
import { itemDetail, parseErrorOf } from "../../../shared/review/item_detail.ts";
import { ALICE, NOW, PROSE_RAW, quietLogs, World } from "./_world.ts";

quietLogs();

Deno.test("itemDetail() signs a link to the raw response that expires after the configured seconds", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const bundle = (await w.repo.get({ userId: ALICE }, id))!;
  const d = await itemDetail({ store: w.store, signedUrlSeconds: 60 }, bundle, NOW);
  assert.equal(d.raw.available, true);
  assert.equal(d.raw.expires_in, 60);
  assert.equal(d.raw.expires_at, new Date(NOW.getTime() + 60_000).toISOString());
  assert.deepEqual(d.parse_error, parseErrorOf(bundle));
});

Deno.test("itemDetail() reports a link that cannot be signed as unavailable instead of failing the request", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const bundle = (await w.repo.get({ userId: ALICE }, id))!;
  w.storageDown = true;
  const d = await itemDetail({ store: w.store, signedUrlSeconds: 60 }, bundle, NOW);
  assert.deepEqual(d.raw, {
    available: false,
    reason: "signing_failed",
    path: bundle.item.raw_response_path,
  });
});
