import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { DEFAULT_FILTER } from "../../../shared/export/filter.ts";
import { manifestSchema } from "../../../shared/export/manifest.ts";
import { runExport } from "../../../shared/export/run.ts";
import {
  exportDataStream,
  exportManifestStream,
  ExportStreamError,
  streamFileName,
  type StreamOptions,
} from "../../../shared/export/stream.ts";
import { fakeExportSource } from "./_fixtures.ts";

const opts: StreamOptions = {
  filter: DEFAULT_FILTER,
  format: "messages",
  gzip: false,
  pageSize: 3,
  concurrency: 2,
  tries: 1,
  retryDelayMs: 0,
};

async function bytesOf(s: ReadableStream<Uint8Array>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await new Response(s).arrayBuffer());
}

Deno.test("exportDataStream() sends the same bytes as deno task export writes for the same selection", async () => {
  const dir = await Deno.makeTempDir();
  for (const format of ["messages", "openai", "record"] as const) {
    const { src } = fakeExportSource(8, { bulk: true, missing: new Set([5]) });
    const streamed = await bytesOf(await exportDataStream(src, { ...opts, format }));
    await runExport(fakeExportSource(8, { missing: new Set([5]) }).src, {
      filter: DEFAULT_FILTER,
      format,
      base: join(dir, format),
      gzip: false,
      split: null,
      resume: false,
      pageSize: 3,
    });
    assert.deepEqual(streamed, Deno.readFileSync(join(dir, `${format}.jsonl`)), format);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("exportManifestStream() is a valid manifest whose sha256 is that of the data stream (plain and gzip)", async () => {
  for (const gzip of [false, true]) {
    const o = { ...opts, gzip };
    const data = await bytesOf(await exportDataStream(fakeExportSource(8, { missing: new Set([5]) }).src, o));
    const text = new TextDecoder().decode(
      await bytesOf(await exportManifestStream(fakeExportSource(8, { missing: new Set([5]) }).src, o)),
    );
    const m = manifestSchema.parse(JSON.parse(text));
    assert.deepEqual(m.files, [{
      name: streamFileName(gzip),
      split: null,
      conversations: 7,
      bytes: data.length,
      sha256: createHash("sha256").update(data).digest("hex"),
    }]);
    assert.equal(m.conversations.length, 7);
    assert.deepEqual(m.skipped.map((s) => [s.conversation_id.slice(-1), s.reason]), [[
      "5",
      "final_file_missing",
    ]]);
    assert.deepEqual(m.counts.by_method, { direct: 4, jsonrepair: 3 });
    assert.deepEqual(m.filter, DEFAULT_FILTER);
    if (gzip) {
      const plain = await bytesOf(new Blob([data]).stream().pipeThrough(new DecompressionStream("gzip")));
      assert.equal(new TextDecoder().decode(plain).trimEnd().split("\n").length, 7);
    }
  }
});

Deno.test("exportManifestStream() of an empty selection is a valid manifest too", async () => {
  const text = await new Response(await exportManifestStream(fakeExportSource(0).src, opts)).text();
  const m = manifestSchema.parse(JSON.parse(text));
  assert.deepEqual([m.conversations, m.skipped, m.files[0].conversations], [[], [], 0]);
});

Deno.test("a database down before the first byte throws; a failure midway breaks the stream", async () => {
  await assert.rejects(
    exportDataStream(fakeExportSource(8, { dbFailAt: 1 }).src, opts),
    (e: unknown) => e instanceof ExportStreamError && e.failed === "database",
  );
  const storage = await exportDataStream(fakeExportSource(8, { unavailable: new Set([4]) }).src, opts);
  await assert.rejects(
    bytesOf(storage),
    (e: unknown) => e instanceof ExportStreamError && e.failed === "storage",
  );
  const db = await exportManifestStream(fakeExportSource(8, { dbFailAt: 2 }).src, opts);
  await assert.rejects(
    bytesOf(db),
    (e: unknown) => e instanceof ExportStreamError && e.failed === "database",
  );
});
