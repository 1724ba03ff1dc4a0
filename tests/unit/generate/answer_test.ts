/**
 * The answer phase (shared/generate/answer.ts): from where the bytes are to what the client is told — the row
 * when it can be trusted (waited on for the parse, or read once), else what the worker knows, with the warnings
 * that follow from it.
 */
import assert from "node:assert/strict";
import { answer } from "../../../shared/generate/answer.ts";
import type { RawPersisted } from "../../../shared/generate/persist_raw.ts";
import { setLogSink } from "../../../shared/log.ts";
import { answered, generatingRow, type Harness, harness, timerOf, USER } from "./_fakes.ts";

setLogSink(() => {});

async function run(
  h: Harness,
  persisted: (path: string) => RawPersisted,
  opts: { truncated?: boolean; stored?: boolean } = {},
) {
  const conversationId = await generatingRow(h);
  const path = `raw/${USER}/${conversationId}.json`;
  // As the storage trigger leaves the row once the object is stored (the harness parses it at the second poll).
  if (opts.stored) h.repo.rows.get(conversationId)!.processing_status = "raw_stored";
  const call = opts.truncated
    ? answered({ truncated: true, truncation: "stream_cut", stopReason: null }, true)
    : answered();
  const out = await answer(
    h.deps,
    { conversationId, warnings: ["from prepare"], parseWaitMs: 3000 },
    call,
    persisted(path),
    timerOf(h),
  );
  return { out, conversationId, path };
}

Deno.test("answer() for an uploaded answer waits for the parse and shows the row", async () => {
  const h = harness();
  const { out, conversationId, path } = await run(
    h,
    (path) => ({ kind: "uploaded", path, databaseDown: false }),
    { stored: true },
  );
  assert.deepEqual(out, {
    kind: "created",
    view: {
      conversation_id: conversationId,
      processing_status: "completed",
      raw_response_path: path,
      parse_method_used: "direct",
      turn_count: 8,
      warnings: ["from prepare"],
    },
  });
});

Deno.test("answer() for an upload while the database was down answers raw_stored without reading the row", async () => {
  const h = harness();
  const late = (path: string): RawPersisted => ({ kind: "late", path, databaseDown: true });
  const { out, path } = await run(h, late, { truncated: true });
  if (out.kind !== "created") throw new Error(`expected created, got ${out.kind}`);
  const { processing_status, raw_response_path, truncated, warnings } = out.view;
  assert.deepEqual([processing_status, raw_response_path, truncated], ["raw_stored", path, true]);
  assert.deepEqual(warnings, [
    "from prepare",
    "the response stream ended early (stream_cut); what arrived is stored",
    "the database was unavailable: the row is rebuilt from the stored object",
  ]);
  assert.deepEqual(h.repo.calls, [], "the row was not read");
});

Deno.test("answer() falls back to what the worker knows when the parse wait cannot read the row", async () => {
  const h = harness();
  h.repo.down.add("readState");
  const { out, path } = await run(h, (path) => ({ kind: "uploaded", path, databaseDown: false }));
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_stored");
  assert.equal(out.kind === "created" && out.view.raw_response_path, path);
});

Deno.test("answer() for spooled bytes reads the row once and says they will be uploaded", async () => {
  const h = harness();
  const { out, conversationId } = await run(h, () => ({ kind: "spooled" }));
  assert.equal(h.repo.polls, 1);
  assert.deepEqual(out, {
    kind: "created",
    view: {
      conversation_id: conversationId,
      processing_status: "generating",
      raw_response_path: null,
      warnings: [
        "from prepare",
        "Storage is unavailable: the raw response is spooled in the database and will be uploaded",
      ],
    },
  });
});

Deno.test("answer() for bytes held in the write-ahead copy says raw_spooled, not the row's generating", async () => {
  const h = harness();
  const { out } = await run(h, () => ({ kind: "held" }));
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_spooled");
  assert.equal(out.kind === "created" && out.view.raw_response_path, null);
  assert.match(
    out.kind === "created" && out.view.warnings?.[1] || "",
    /held in the database \(written ahead\)/,
  );
  assert.deepEqual(h.repo.calls, []);
});

Deno.test("answer() for unsaved bytes is the unsaved outcome with the id", async () => {
  const h = harness();
  const { out, conversationId } = await run(h, () => ({ kind: "unsaved" }));
  assert.deepEqual(out, { kind: "unsaved", conversationId });
});
