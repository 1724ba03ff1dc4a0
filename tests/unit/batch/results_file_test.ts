import assert from "node:assert/strict";
import { readResultLine, readResults, splitParts } from "../../../shared/batch/results_file.ts";

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
