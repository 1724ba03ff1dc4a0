import assert from "node:assert/strict";
import { batchStatus, cancelBatch, listBatches } from "../../../shared/batch/operate_batch.ts";
import { AppError } from "../../../shared/errors.ts";
import { fakeBatch, FakeBatchApi, FakeBatchStore, USER } from "./_fakes.ts";

async function seeded() {
  const store = new FakeBatchStore();
  await store.insertBatch(fakeBatch("b1", { model: "m" }), []);
  return store;
}

Deno.test("batchStatus() is 404 for another user's batch; listBatches() lists the owner's", async () => {
  const store = await seeded();
  assert.equal((await batchStatus(store, "b1", USER)).batch_id, "b1");
  await assert.rejects(
    batchStatus(store, "b1", crypto.randomUUID()),
    (e) => e instanceof AppError && e.code === "not_found",
  );
  assert.equal((await listBatches(store, USER, 10)).length, 1);
  assert.equal((await listBatches(store, crypto.randomUUID(), 10)).length, 0);
});

Deno.test("cancelBatch() cancels at Anthropic and marks canceling; a batch not yet submitted is a conflict", async () => {
  const store = await seeded();
  const api = new FakeBatchApi();
  await assert.rejects(
    cancelBatch({ store, api }, "b1", USER),
    (e) => e instanceof AppError && e.code === "conflict",
  );
  await store.markSubmitted("b1", { id: "msgbatch_x", expiresAt: new Date(), createdAt: new Date() });
  const view = await cancelBatch({ store, api }, "b1", USER);
  assert.equal(view.state, "canceling");
  assert.deepEqual(api.canceled, ["msgbatch_x"]);
});
