/**
 * Persist raw (shared/generate/persist_raw.ts): each way the bytes can end up durable is one result — uploaded,
 * late, spooled, held, unsaved — and each leaves exactly the copies it says.
 */
import assert from "node:assert/strict";
import { persistRaw } from "../../../shared/generate/persist_raw.ts";
import {
  answer,
  answered,
  captureLogs,
  generatingRow,
  type Harness,
  harness,
  timerOf,
  USER,
} from "./_fakes.ts";

const logs = captureLogs();

async function persist(h: Harness) {
  const conversationId = await generatingRow(h);
  const out = await persistRaw(h.deps, { conversationId, userId: USER }, answered(), timerOf(h));
  return { out, conversationId, path: `raw/${USER}/${conversationId}.json` };
}

function storageDown(h: Harness): Harness {
  h.store.always = { ok: false, kind: "unavailable", message: "503 Service Unavailable" };
  return h;
}

Deno.test("persistRaw() writes ahead, uploads, then drops the write-ahead copy: uploaded", async () => {
  const h = harness();
  const { out, conversationId, path } = await persist(h);
  assert.deepEqual(out, { kind: "uploaded", path, databaseDown: false });
  assert.equal(new TextDecoder().decode(h.store.objects.get(path)), answer().body);
  assert.deepEqual(h.repo.calls, ["writeAhead", "dropWriteAhead"]);
  assert.equal(h.repo.writtenAhead.has(conversationId), false);
  assert.equal(h.repo.rows.get(conversationId)!.claude?.costUsd, 0.033, "the metadata went with the bytes");
});

Deno.test("persistRaw() still uploads when the database refuses the write-ahead: uploaded, database down", async () => {
  const h = harness();
  h.repo.down.add("writeAhead");
  const { out, path } = await persist(h);
  assert.deepEqual(out, { kind: "uploaded", path, databaseDown: true });
  assert.ok(h.store.objects.has(path));
});

Deno.test("persistRaw() spools the bytes when Storage stays down: spooled", async () => {
  const h = storageDown(harness());
  const { out, conversationId } = await persist(h);
  assert.deepEqual(out, { kind: "spooled" });
  assert.equal(new TextDecoder().decode(h.repo.spool.get(conversationId)!.raw), answer().body);
  assert.equal(h.repo.rows.get(conversationId)!.processing_status, "raw_spooled");
});

Deno.test("persistRaw() spools nothing when the trigger saw the object after all: late", async () => {
  const h = storageDown(harness());
  const spoolRaw = h.repo.spoolRaw.bind(h.repo);
  h.repo.spoolRaw = (i) => {
    h.repo.rows.get(i.conversationId)!.processing_status = "raw_stored";
    return spoolRaw(i);
  };
  const { out, path } = await persist(h);
  assert.deepEqual(out, { kind: "late", path, databaseDown: false });
  assert.equal(h.repo.spool.size, 0);
});

Deno.test("persistRaw() counts on the write-ahead copy when the spool statement fails: held", async () => {
  const h = storageDown(harness());
  h.repo.down.add("spoolRaw");
  const { out, conversationId } = await persist(h);
  assert.deepEqual(out, { kind: "held" });
  assert.equal(h.repo.writtenAhead.get(conversationId)?.kind, "write_ahead", "the copy stays for the flush");
});

Deno.test("persistRaw() logs the body when neither Storage nor the database takes it: unsaved", async () => {
  const h = storageDown(harness());
  h.repo.down.add("writeAhead");
  h.repo.down.add("spoolRaw");
  logs.length = 0;
  const { out, conversationId } = await persist(h);
  assert.deepEqual(out, { kind: "unsaved" });
  const chunks = logs.filter((l) => l.event === "raw_response_unsaved");
  assert.deepEqual(chunks.map((c) => [c.conversation_id, c.chunk, c.chunks]), [[conversationId, 1, 1]]);
  assert.equal(chunks[0].raw_body_chunk, answer().body);
});
