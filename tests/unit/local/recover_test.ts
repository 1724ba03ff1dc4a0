/**
 * local/recover.ts against a fake target: which logged answers are stored, which are skipped and why, the dry
 * run, and the report table.
 */
import assert from "node:assert/strict";
import { formatReport, recover, type RecoverRow, type RecoverTarget } from "../../../local/recover.ts";
import { logAheadParts } from "../../../shared/generate/log_ahead.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import type { LoggedPart } from "../../../shared/recover/assemble.ts";
import type { UploadResult } from "../../../shared/pipeline/object_store.ts";

const USER = "00000000-0000-4000-8000-0000000000ff";
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const meta = {
  stop_reason: "end_turn",
  model: null,
  usage: { input_tokens: 1, output_tokens: 2 },
  truncated: false,
};

async function parts(conversationId: string, text: string): Promise<LoggedPart[]> {
  const raw = new TextEncoder().encode(text);
  return logAheadParts({ conversationId, rawSha256: await sha256Hex(raw), raw, meta }).map((p) => ({
    event: "raw_response_logged" as const,
    ...p,
  }));
}

function row(n: number, status: string, code: string | null = null, path: string | null = null): RecoverRow {
  return {
    conversation_id: id(n),
    user_id: USER,
    processing_status: status,
    generation_error_code: code,
    raw_response_path: path,
  };
}

function fakeTarget(rows: RecoverRow[], uploads: Record<string, UploadResult> = {}) {
  const uploaded: string[] = [];
  const recorded: string[] = [];
  const target: RecoverTarget = {
    rows: (ids) => Promise.resolve(rows.filter((r) => ids.includes(r.conversation_id))),
    recordAnswer: (a) => {
      recorded.push(a.conversationId);
      return Promise.resolve(a.conversationId !== id(7));
    },
    upload: (path) => {
      uploaded.push(path);
      return Promise.resolve(uploads[path] ?? { ok: true });
    },
  };
  return { target, uploaded, recorded };
}

Deno.test("recover() stores what rows still need, and says why it skips the rest", async () => {
  const logged = [
    ...await parts(id(1), "lost"),
    ...await parts(id(2), "stuck"),
    ...await parts(id(3), "done"),
    ...await parts(id(4), "no row"),
    ...await parts(id(5), "one"),
    ...await parts(id(5), "two"),
    ...(await parts(id(6), "x".repeat(20_000))).slice(1),
    ...await parts(id(7), "other sha"),
    ...await parts(id(8), "exists"),
  ];
  const rows = [
    row(1, "generation_failed", "worker_lost"),
    row(2, "generating"),
    row(3, "completed", null, "raw/x"),
    row(5, "generating"),
    row(7, "generating"),
    row(8, "generating"),
  ];
  const { target, uploaded, recorded } = fakeTarget(rows, {
    [`raw/${USER}/${id(8)}.json`]: { ok: false, kind: "exists" },
  });
  const items = await recover(logged, target, { dryRun: false });
  const by = Object.fromEntries(items.map((i) => [i.conversation_id, `${i.action}: ${i.reason}`]));
  assert.match(by[id(1)], /^restored/);
  assert.match(by[id(2)], /^restored/);
  assert.equal(by[id(3)], "skipped: row is completed");
  assert.equal(by[id(4)], "skipped: no conversation row");
  assert.match(by[id(6)], /^skipped: incomplete: parts 0 of/);
  assert.equal(by[id(7)], "skipped: row moved on or records another sha256");
  assert.equal(by[id(8)], "skipped: raw object exists");
  assert.ok(items.filter((i) => i.conversation_id === id(5)).every((i) => /ambiguous/.test(i.reason)));
  assert.deepEqual(uploaded.sort(), [1, 2, 8].map((n) => `raw/${USER}/${id(n)}.json`));
  assert.deepEqual(recorded.sort(), [id(1), id(2), id(7), id(8)]);
  assert.match(formatReport(items), /restored 2/);
});

Deno.test("recover() with dryRun writes nothing", async () => {
  const { target, uploaded, recorded } = fakeTarget([row(1, "generating")]);
  const items = await recover(await parts(id(1), "body"), target, { dryRun: true });
  assert.deepEqual(items.map((i) => i.action), ["would_restore"]);
  assert.deepEqual([uploaded, recorded], [[], []]);
  assert.equal(formatReport([]), "no logged answers found");
});
