import assert from "node:assert/strict";
import { DEFAULT_FILTER } from "../../../shared/export/filter.ts";
import {
  downloadPage,
  exportPages,
  type ExportSource,
  outcomeOf,
  type PageOutcome,
  RowsUnavailable,
} from "../../../shared/export/pages.ts";
import { completedRow, fakeExportSource, finalBytes } from "./_fixtures.ts";

const loop = {
  filter: DEFAULT_FILTER,
  format: "messages" as const,
  after: null,
  pageSize: 3,
  concurrency: 2,
  tries: 3,
  retryDelayMs: 1,
  sleep: () => Promise.resolve(),
};

async function all(src: ExportSource, o = loop): Promise<PageOutcome[]> {
  const out: PageOutcome[] = [];
  for await (const p of exportPages(src, o)) out.push(p);
  return out;
}

Deno.test("exportPages() gives every row once, in order, a page at a time, whether or not Storage is bulk", async () => {
  for (const bulk of [false, true]) {
    const { src } = fakeExportSource(7, { bulk, missing: new Set([4]) });
    const pages = await all(src);
    assert.deepEqual(pages.map((p) => p.outcomes.length), [3, 3, 1]);
    const outcomes = pages.flatMap((p) => p.outcomes);
    assert.deepEqual(outcomes.map((o) => o.row.conversation_id.slice(-1)), [
      "0",
      "1",
      "2",
      "3",
      "4",
      "5",
      "6",
    ]);
    assert.deepEqual(outcomes.map((o) => o.kind), [
      "line",
      "line",
      "line",
      "line",
      "skipped",
      "line",
      "line",
    ]);
    assert.equal(JSON.parse((outcomes[0] as { line: string }).line).messages[0].content, "q0");
    assert.ok(pages.every((p) => p.unavailable === null));
  }
});

Deno.test("exportPages() signs a page in one bulk call and reads the next page of rows before it downloads", async () => {
  const { src, calls } = fakeExportSource(7, { bulk: true });
  await all(src);
  assert.deepEqual(calls, [
    "rows start",
    "rows 002", // read ahead: page 2's rows are asked for before page 1's files
    "downloadMany 3",
    "rows 005",
    "downloadMany 3",
    "downloadMany 1",
  ]);
});

Deno.test("exportPages() tries an unavailable file again one by one, then stops the page at that row", async () => {
  const { src, calls } = fakeExportSource(7, { bulk: true, unavailable: new Set([4]) });
  const pages = await all(src);
  assert.equal(pages.length, 2, "nothing after the failing page");
  assert.deepEqual(pages[1].outcomes.map((o) => o.row.conversation_id.slice(-1)), ["3"]);
  assert.equal(pages[1].unavailable?.row.conversation_id.slice(-1), "4");
  assert.equal(pages[1].unavailable?.message, "storage down");
  assert.equal(calls.filter((c) => c === "download 0004").length, 2, "tries 2 and 3, one by one");
});

Deno.test("exportPages() throws RowsUnavailable when the database fails, also on a page read ahead", async () => {
  const { src } = fakeExportSource(7, { dbFailAt: 2 });
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const p of exportPages(src, loop)) seen.push(p.outcomes.length);
  }, RowsUnavailable);
  assert.deepEqual(seen, [3], "the first page is complete before the failure surfaces");
});

Deno.test("downloadPage() answers in row order; a row without a final file is not_found without a call", async () => {
  const { src, calls, rows } = fakeExportSource(3, { bulk: true });
  const got = await downloadPage(src, [rows[2], { ...rows[0], file_path: null }, rows[1]], loop);
  assert.deepEqual(got.map((a) => (a.ok ? new TextDecoder().decode(a.bytes) : a.kind)), [
    new TextDecoder().decode(finalBytes(2)),
    "not_found",
    new TextDecoder().decode(finalBytes(1)),
  ]);
  assert.deepEqual(calls, ["downloadMany 2"]);
});

Deno.test("outcomeOf() turns a final file into a line, and names why a row is skipped", () => {
  const ok = outcomeOf("openai", completedRow, { ok: true, bytes: finalBytes(1) });
  assert.equal(ok.kind, "line");
  assert.match((ok as { finalSha256: string }).finalSha256, /^[0-9a-f]{64}$/);
  const reason = (r: ReturnType<typeof outcomeOf>) => (r.kind === "skipped" ? r.reason : "line");
  assert.equal(
    reason(outcomeOf("messages", completedRow, { ok: false, kind: "not_found" })),
    "final_file_missing",
  );
  assert.equal(
    reason(outcomeOf("messages", { ...completedRow, file_path: null }, { ok: false, kind: "not_found" })),
    "no_final_file",
  );
  const bad = new TextEncoder().encode("{not json");
  assert.equal(reason(outcomeOf("messages", completedRow, { ok: true, bytes: bad })), "invalid_final_file");
});
