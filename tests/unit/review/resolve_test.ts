import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { resolveItem } from "../../../shared/review/resolve.ts";
import { finalObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { makeConversation } from "../../fixtures/parse/samples.ts";
import { ALICE, BOB, NOW, PROSE_RAW, quietLogs, World } from "./_world.ts";

quietLogs();
const conversation = makeConversation(11, { turns: 4 });
const input = { reviewedBy: ALICE, notes: "fixed by hand", parserVersion: "test", now: NOW };

Deno.test("resolveItem() writes the final file and completes the row in one step", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  assert.equal(await resolveItem(w, { userId: ALICE }, id, conversation, input), null);
  assert.equal(w.row(id).processing_status, "completed");
  assert.equal(w.row(id).file_path, finalObjectPath(ALICE, id));
  assert.equal(w.row(id).turn_count, 4);
  const file = JSON.parse(new TextDecoder().decode(w.objects.get(finalObjectPath(ALICE, id))));
  assert.deepEqual(file.turns, conversation.turns);
});

Deno.test("resolveItem() answers 503 when Storage does not take the file, and the row stays in review", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  w.storageDown = true;
  await assert.rejects(
    resolveItem(w, { userId: ALICE }, id, conversation, input),
    (e) => e instanceof AppError && e.code === "upstream_unavailable",
  );
  assert.equal(w.row(id).processing_status, "parse_failed");
  assert.equal(w.objects.has(finalObjectPath(ALICE, id)), false);
});

Deno.test("resolveItem() refuses another user's item as not found, writing nothing", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  assert.equal(await resolveItem(w, { userId: BOB }, id, conversation, input), "not_found");
  assert.equal(w.objects.has(finalObjectPath(ALICE, id)), false);
});
