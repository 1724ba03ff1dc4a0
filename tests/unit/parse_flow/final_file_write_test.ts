import assert from "node:assert/strict";
import { buildFinalFile, writeFinalFile } from "../../../shared/parse_flow/final_file.ts";
import { finalObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { makeConversation } from "../../fixtures/parse/samples.ts";
import { FakeStore, SCAFFOLDING, USER } from "./_fakes.ts";

const ID = "0a0a0a0a-2222-4222-8222-000000000001";
const conversation = makeConversation(7, { turns: 4 });
const target = { userId: USER, conversationId: ID, scaffolding: SCAFFOLDING };

Deno.test("writeFinalFile() uploads the built file at the final path, upserting over an earlier one", async () => {
  const store = new FakeStore();
  store.objects.set(finalObjectPath(USER, ID), new TextEncoder().encode("{}"));
  const written = await writeFinalFile(store, target, conversation);
  assert.equal(written.ok, true);
  assert.equal(written.path, finalObjectPath(USER, ID));
  assert.deepEqual(store.uploads, [{ path: written.path, upsert: true, contentType: "application/json" }]);
  assert.deepEqual(store.objects.get(written.path), buildFinalFile(conversation, SCAFFOLDING).bytes);
});

Deno.test("writeFinalFile() reports a Storage failure as a value with the reason, never a throw", async () => {
  const store = new FakeStore();
  store.uploadFails = "unavailable";
  assert.deepEqual(await writeFinalFile(store, target, conversation), {
    ok: false,
    path: finalObjectPath(USER, ID),
    detail: "storage is down",
  });
  store.uploadFails = "rejected";
  const rejected = await writeFinalFile(store, target, conversation);
  assert.equal(rejected.ok, false);
  assert.equal(store.objects.size, 0, "nothing was stored");
});
