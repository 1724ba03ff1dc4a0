import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_FILTER } from "../../../shared/export/filter.ts";
import { ExportError, type ExportSource, readManifest, runExport } from "../../../shared/export/run.ts";
import type { ExportRow } from "../../../shared/export/row.ts";

function rowAt(i: number): ExportRow {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  return {
    conversation_id: id,
    user_id: "00000000-0000-4000-8000-0000000000aa",
    created_at: `2026-01-01T00:00:${String(i % 60).padStart(2, "0")}.000000Z`,
    processing_status: "completed",
    file_path: `u/${id}/conversation.json`,
    storage_bucket: "conversation-files",
    parse_method_used: i % 2 === 0 ? "direct" : "jsonrepair",
    parser_version: "2026.12.1",
    source: "generated",
    model: "m",
    raw_sha256: "ab",
    persona_key: i % 3 === 0 ? "p1" : "p2",
    emotional_arc_key: null,
    topic_key: "t",
    tier: null,
    turn_count: 2,
    conversation_name: null,
    stop_reason: null,
    input_tokens: null,
    output_tokens: null,
    truncated: false,
  };
}

function fakeSource(n: number, opts: { missing?: Set<number>; dbFailAt?: number } = {}) {
  const rows = Array.from({ length: n }, (_, i) => rowAt(i));
  const state = { pages: 0, dbFailAt: opts.dbFailAt ?? -1 };
  const src: ExportSource = {
    rows(_f, after, limit) {
      state.pages++;
      if (state.pages === state.dbFailAt) return Promise.reject(new Error("connection reset"));
      const start = after === null
        ? 0
        : rows.findIndex((r) => r.conversation_id === after.conversation_id) + 1;
      return Promise.resolve(rows.slice(start, start + limit));
    },
    count: () => Promise.resolve(n),
    download(_b, path) {
      const i = rows.findIndex((r) => r.file_path === path);
      if (opts.missing?.has(i)) return Promise.resolve({ ok: false, kind: "not_found" });
      const doc = {
        conversation_metadata: { client_persona: `P${i}`, session_context: "s", conversation_phase: "x" },
        turns: [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }],
      };
      return Promise.resolve({ ok: true, bytes: new TextEncoder().encode(JSON.stringify(doc)) });
    },
  };
  return { src, state };
}

const base = { filter: DEFAULT_FILTER, format: "messages" as const, gzip: false, split: null, pageSize: 3 };

Deno.test("a missing final file is skipped and listed in the manifest; the rest are exported in order", async () => {
  const dir = await Deno.makeTempDir();
  const { src } = fakeSource(7, { missing: new Set([2]) });
  const res = await runExport(src, { ...base, base: join(dir, "x"), resume: false });
  assert.equal(res.counts.conversations, 6);
  const lines = Deno.readTextFileSync(join(dir, "x.jsonl")).trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => JSON.parse(l).messages[0].content), ["q0", "q1", "q3", "q4", "q5", "q6"]);
  const m = readManifest(res.manifestPath);
  assert.deepEqual(m.skipped.map((s) => s.reason), ["final_file_missing"]);
  assert.deepEqual(m.counts.by_method, { direct: 3, jsonrepair: 3 });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a database failure midway: a clear error, no final file; --resume gives the same bytes", async () => {
  const dir = await Deno.makeTempDir();
  const failing = fakeSource(10, { dbFailAt: 3 });
  await assert.rejects(
    runExport(failing.src, { ...base, base: join(dir, "x"), resume: false }),
    (e: unknown) =>
      e instanceof ExportError && e.code === "database_unavailable" && /connection reset/.test(e.message),
  );
  assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name === "x.jsonl" || e.name === "x.manifest.json"));
  await assert.rejects(
    runExport(fakeSource(10).src, { ...base, format: "openai", base: join(dir, "x"), resume: true }),
    (e: unknown) => e instanceof ExportError && e.code === "resume_mismatch",
  );
  const resumed = await runExport(fakeSource(10).src, { ...base, base: join(dir, "x"), resume: true });
  assert.equal(resumed.resumedFrom, 6);
  const fresh = await runExport(fakeSource(10).src, { ...base, base: join(dir, "y"), resume: false });
  assert.deepEqual(Deno.readFileSync(join(dir, "x.jsonl")), Deno.readFileSync(join(dir, "y.jsonl")));
  assert.equal(
    Deno.readTextFileSync(join(dir, "x.manifest.json")).replaceAll("x.jsonl", "_"),
    Deno.readTextFileSync(join(dir, "y.manifest.json")).replaceAll("y.jsonl", "_"),
  );
  assert.equal(resumed.files[0].sha256, fresh.files[0].sha256);
  await assert.rejects(
    runExport(fakeSource(10).src, { ...base, base: join(dir, "z"), resume: true }),
    (e: unknown) => e instanceof ExportError && e.code === "nothing_to_resume",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a stratified split writes one file per split with exact shares per persona", async () => {
  const dir = await Deno.makeTempDir();
  const { src } = fakeSource(30);
  const res = await runExport(src, {
    ...base,
    base: join(dir, "s"),
    resume: false,
    split: {
      parts: [{ name: "train", ratio: 0.8 }, { name: "eval", ratio: 0.2 }],
      seed: 5,
      stratify: "persona",
    },
  });
  assert.deepEqual(res.files.map((f) => f.name), ["s.train.jsonl", "s.eval.jsonl"]);
  const m = readManifest(res.manifestPath);
  // p1: 10 members → 8/2; p2: 20 members → 16/4.
  const by = (p: string, s: string) =>
    m.conversations.filter((c) =>
      c.split === s && (Number(c.conversation_id.slice(-12)) % 3 === 0) === (p === "p1")
    )
      .length;
  assert.deepEqual([by("p1", "train"), by("p1", "eval"), by("p2", "train"), by("p2", "eval")], [8, 2, 16, 4]);
  await Deno.remove(dir, { recursive: true });
});
