import assert from "node:assert/strict";
import { readResultLine, readResults, splitParts, streamParts } from "../../../shared/batch/results_file.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("splitParts() cuts at line ends under the limit, and the parts concatenated are the input", () => {
  const text = "aaaa\nbbbb\ncccccccccccc\ndd";
  const parts = splitParts(enc(text), 8);
  assert.deepEqual(parts.map((p) => new TextDecoder().decode(p.bytes)), [
    "aaaa\n",
    "bbbb\n",
    "cccccccccccc\n",
    "dd",
  ]);
  assert.deepEqual(parts.map((p) => p.lines), [1, 1, 1, 1]);
  assert.deepEqual(splitParts(enc("a\nb\n"), 100).map((p) => p.lines), [2]);
  assert.deepEqual(splitParts(new Uint8Array(), 100), []);
});

Deno.test("readResultLine() reads the four result types and never throws on a bad line", () => {
  assert.equal(
    readResultLine('{"custom_id":"a","result":{"type":"succeeded","message":{"id":"m"}}}', 1).kind,
    "succeeded",
  );
  assert.deepEqual(
    readResultLine(
      '{"custom_id":"a","result":{"type":"errored","error":{"type":"error","error":{"type":"api_error","message":"x"}}}}',
      1,
    ),
    { kind: "errored", customId: "a", errorType: "api_error", message: "x" },
  );
  assert.deepEqual(readResultLine('{"custom_id":"a","result":{"type":"expired"}}', 1), {
    kind: "expired",
    customId: "a",
  });
  assert.deepEqual(readResultLine('{"custom_id":"a","result":{"type":"canceled"}}', 1), {
    kind: "canceled",
    customId: "a",
  });
  assert.equal(readResultLine('{"custom_id":"a","res', 7).kind, "unreadable");
  assert.equal(readResultLine('{"custom_id":"a","result":{"type":"weird"}}', 1).kind, "unreadable");
});

Deno.test("readResults() skips blank lines and numbers the others", () => {
  const out = readResults(enc('{"custom_id":"a","result":{"type":"expired"}}\n\nnot json\n'));
  assert.equal(out.length, 2);
  assert.deepEqual(out[1], { kind: "unreadable", line: 3, reason: "not JSON" });
});

async function* chunksOf(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < bytes.length; off += size) yield bytes.slice(off, off + size);
}

async function collectParts(stream: AsyncIterable<{ bytes: Uint8Array; lines: number }>) {
  const out: { text: string; lines: number }[] = [];
  for await (const p of stream) out.push({ text: new TextDecoder().decode(p.bytes), lines: p.lines });
  return out;
}

Deno.test("streamParts() cuts a stream into the same parts as splitParts(), whatever the chunk sizes", async () => {
  const text = Array.from({ length: 40 }, (_, i) => `{"custom_id":"c${i}","pad":"${"x".repeat(i * 3)}"}`)
    .join("\n") + "\n";
  const bytes = new TextEncoder().encode(text);
  const expected = splitParts(bytes, 100).map((p) => ({
    text: new TextDecoder().decode(p.bytes),
    lines: p.lines,
  }));
  for (const chunk of [1, 7, 64, 100, 101, 1000, bytes.length]) {
    const got = await collectParts(streamParts(chunksOf(bytes, chunk), 100));
    assert.deepEqual(got, expected, `chunks of ${chunk} bytes`);
  }
  // Every part but a single over-long line's ends at a line end, so no line spans two parts.
  for (const p of expected) assert.ok(p.text.endsWith("\n"));
  assert.equal(expected.map((p) => p.text).join(""), text);
});

Deno.test("streamParts() keeps a line longer than a part whole, and a last line without a newline", async () => {
  const long = `{"custom_id":"long","pad":"${"y".repeat(300)}"}`;
  const text = `{"a":1}\n${long}\n{"b":2}`;
  const got = await collectParts(streamParts(chunksOf(new TextEncoder().encode(text), 16), 64));
  assert.deepEqual(got.map((p) => p.text), ['{"a":1}\n', `${long}\n`, '{"b":2}']);
  assert.deepEqual(got.map((p) => p.lines), [1, 1, 1]);
});

Deno.test("streamParts() fails where the stream fails: a cut is never a short file", async () => {
  async function* cut(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('{"a":1}\n{"b":');
    throw new Error("connection reset");
  }
  await assert.rejects(() => collectParts(streamParts(cut(), 1024)), /connection reset/);
});

Deno.test("readResults() numbers lines from a part's first line in the whole file", () => {
  const got = readResults(new TextEncoder().encode("nope\n"), 41);
  assert.deepEqual(got, [{ kind: "unreadable", line: 41, reason: "not JSON" }]);
});
