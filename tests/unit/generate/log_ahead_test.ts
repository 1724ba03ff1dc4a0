/**
 * The log-ahead's parts (shared/generate/log_ahead.ts): every whole log line under the platform's limit, the
 * metadata on part 0 only, and the slices concatenating back to the body.
 */
import assert from "node:assert/strict";
import {
  LOG_AHEAD_EVENT,
  LOG_AHEAD_MAX_LINE_CHARS,
  logAhead,
  logAheadParts,
} from "../../../shared/generate/log_ahead.ts";
import { setLogSink } from "../../../shared/log.ts";

const meta = {
  stop_reason: "end_turn",
  model: "claude-sonnet-4-5",
  usage: { input_tokens: 10, output_tokens: 20 },
  truncated: false,
};
const id = "00000000-0000-4000-8000-000000000001";
const sha = "b".repeat(64);

function body(n: number): Uint8Array {
  return new TextEncoder().encode("é😀x".repeat(n)).subarray(0, n);
}

function unbase64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

Deno.test("logAheadParts() splits a large body into parts whose log lines stay under 9,000 characters", () => {
  const raw = body(100_000);
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    const n = logAhead({ conversationId: id, rawSha256: sha, raw, meta });
    assert.equal(n, lines.length);
  } finally {
    setLogSink(prev);
  }
  assert.ok(lines.length >= 12, `${lines.length} parts`);
  for (const l of lines) assert.ok(l.length < LOG_AHEAD_MAX_LINE_CHARS, `a line of ${l.length}`);
  const parsed = lines.map((l) => JSON.parse(l));
  assert.ok(parsed.every((p) => p.event === LOG_AHEAD_EVENT && p.parts === lines.length));
  assert.deepEqual(parsed.map((p) => p.part), [...Array(lines.length).keys()]);
  assert.deepEqual(parsed[0].meta, meta);
  assert.ok(parsed.slice(1).every((p) => p.meta === undefined), "metadata on part 0 only");
  const joined = new Uint8Array(parsed.flatMap((p) => [...unbase64(p.data)]));
  assert.deepEqual(joined, raw);
});

Deno.test("logAheadParts() gives an empty body one part and cuts a very long model name", () => {
  const parts = logAheadParts({
    conversationId: id,
    rawSha256: sha,
    raw: new Uint8Array(),
    meta: { ...meta, model: "m".repeat(5000) },
  });
  assert.equal(parts.length, 1);
  assert.equal(parts[0].data, "");
  assert.equal(parts[0].meta?.model?.length, 200);
});

Deno.test("logAheadParts() honours a smaller line limit and refuses one that leaves no room", () => {
  const parts = logAheadParts({ conversationId: id, rawSha256: sha, raw: body(5000), meta }, 1000);
  assert.ok(parts.length > 5);
  for (const p of parts) assert.ok(JSON.stringify(p).length + 120 < 1000);
  assert.throws(
    () => logAheadParts({ conversationId: id, rawSha256: sha, raw: body(10), meta }, 200),
    RangeError,
  );
});
