/**
 * Reading the log-ahead back (shared/recover/assemble.ts): the three line shapes, other functions and events
 * ignored, and each group reassembled, reported incomplete or mismatched.
 */
import assert from "node:assert/strict";
import { type LogAheadPart, logAheadParts } from "../../../shared/generate/log_ahead.ts";
import { assembleBodies, type LoggedPart, loggedPartOf } from "../../../shared/recover/assemble.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";

const meta = {
  stop_reason: "end_turn",
  model: "claude-sonnet-4-5",
  usage: { input_tokens: 10, output_tokens: 20 },
  truncated: false,
};
const A = "00000000-0000-4000-8000-00000000000a";
const B = "00000000-0000-4000-8000-00000000000b";

async function logged(conversationId: string, size: number): Promise<{ raw: Uint8Array; lines: string[] }> {
  const raw = new TextEncoder().encode(`{"content":"${"ü".repeat(size)}"}`);
  const parts = logAheadParts({ conversationId, rawSha256: await sha256Hex(raw), raw, meta });
  return { raw, lines: parts.map(line) };
}

function line(p: LogAheadPart): string {
  return JSON.stringify({
    ts: "2026-12-03T07:00:00.000Z",
    level: "info",
    event: "raw_response_logged",
    ...p,
  });
}

function parse(lines: string[]): LoggedPart[] {
  return lines.map(loggedPartOf).filter((p): p is LoggedPart => p !== null);
}

Deno.test("assembleBodies() puts a logged body back together, parts in any order, duplicates allowed", async () => {
  const a = await logged(A, 20_000);
  const b = await logged(B, 10);
  assert.ok(a.lines.length > 3);
  const shuffled = [...a.lines].reverse().concat(b.lines, a.lines[1]);
  const out = await assembleBodies(parse(shuffled));
  assert.equal(out.length, 2);
  const [first, second] = out;
  assert.equal(first.kind, "complete");
  assert.equal(second.kind, "complete");
  if (first.kind !== "complete" || second.kind !== "complete") return;
  assert.equal(first.conversationId, A);
  assert.deepEqual(first.raw, a.raw);
  assert.deepEqual(first.meta, meta);
  assert.deepEqual(second.raw, b.raw);
});

Deno.test("assembleBodies() reports the missing parts of an incomplete body", async () => {
  const a = await logged(A, 20_000);
  const out = await assembleBodies(parse(a.lines.filter((_, i) => i !== 1)));
  assert.equal(out.length, 1);
  assert.equal(out[0].kind, "incomplete");
  if (out[0].kind === "incomplete") assert.deepEqual(out[0].missing, [1]);
});

Deno.test("assembleBodies() refuses bytes whose sha256 differs and parts that disagree", async () => {
  const a = await logged(A, 20_000);
  const tampered = a.lines.map((l, i) => {
    if (i !== 1) return l;
    const o = JSON.parse(l);
    o.data = btoa("not the same bytes at all");
    return JSON.stringify(o);
  });
  const out = await assembleBodies(parse(tampered));
  assert.equal(out[0].kind, "mismatched");
  if (out[0].kind === "mismatched") assert.equal(out[0].reason, "sha256");

  const conflicting = await assembleBodies(parse([...a.lines, tampered[1]]));
  assert.equal(conflicting[0].kind, "mismatched");
  if (conflicting[0].kind === "mismatched") assert.equal(conflicting[0].reason, "conflicting_parts");

  const recount = JSON.parse(a.lines[0]);
  recount.parts += 1;
  const counted = await assembleBodies(parse([...a.lines, JSON.stringify(recount)]));
  if (counted[0].kind === "mismatched") assert.equal(counted[0].reason, "parts_count");
  else assert.fail(`expected parts_count, got ${counted[0].kind}`);
});

Deno.test("loggedPartOf() reads the gateway's wrapper and Management API rows, and ignores everything else", async () => {
  const a = await logged(A, 10);
  const wrap = (fn: string, l: string) => JSON.stringify({ event: "function_log", function: fn, line: l });
  assert.equal(loggedPartOf(wrap("generate-conversation", a.lines[0]))?.conversation_id, A);
  assert.equal(loggedPartOf(wrap("parse-conversation", a.lines[0])), null, "another function");
  assert.equal(loggedPartOf({ id: "x", timestamp: 1, event_message: a.lines[0] })?.part, 0);
  assert.equal(loggedPartOf('{"event":"raw_written_ahead","conversation_id":"x"}'), null, "another event");
  assert.equal(loggedPartOf("not json"), null);
  const bad = JSON.parse(a.lines[0]);
  bad.part = bad.parts;
  assert.equal(loggedPartOf(bad), null, "a part number past the count");
  assert.deepEqual(await assembleBodies([]), []);
});
