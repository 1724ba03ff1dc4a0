/**
 * Stream checkpoints (shared/generate/checkpoint.ts): when they are written (every N ms or N characters of new
 * content, one at a time), what they hold (the partial Message, flagged truncated), and that none lands after
 * close() — the final answer's write-ahead must never be overwritten by a late checkpoint.
 */
import assert from "node:assert/strict";
import type { ClaudeProgress } from "../../../shared/generate/claude_client.ts";
import type { WriteAheadInput } from "../../../shared/generate/conversation_repo.ts";
import { type CheckpointSettings, StreamCheckpointer } from "../../../shared/generate/checkpoint.ts";
import { setLogSink } from "../../../shared/log.ts";

setLogSink(() => {});

const SETTINGS: CheckpointSettings = {
  checkpointEveryMs: 1000,
  checkpointEveryChars: 100,
  checkpointLeaseMs: 420_000,
  model: "claude-sonnet-4-5",
};

function rig(settings: Partial<CheckpointSettings> = {}) {
  let t = 0;
  const writes: WriteAheadInput[] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const repo = {
    writeAhead(input: WriteAheadInput): Promise<boolean> {
      writes.push(input);
      if (!hold) return Promise.resolve(true);
      return new Promise<boolean>((r) => {
        release = () => r(true);
      });
    },
  };
  const cp = new StreamCheckpointer(repo, { ...SETTINGS, ...settings }, "c1", () => t);
  let text = "";
  const event = (add: string, dt = 0): void => {
    t += dt;
    text += add;
    const p: ClaudeProgress = {
      receivedChars: text.length,
      contentBegan: text.length > 0,
      attempt: 1,
      snapshot: () => ({
        type: "message",
        model: "claude-sonnet-4-5",
        content: [{ type: "text", text }],
        stop_reason: null,
        usage: { input_tokens: 50, output_tokens: 1 },
      }),
    };
    cp.onProgress(p);
  };
  return {
    cp,
    writes,
    event,
    hold: () => (hold = true),
    release: () => release?.(),
    flush: () => cp.idle(),
    tick: () => new Promise((r) => setTimeout(r, 5)),
  };
}

Deno.test("StreamCheckpointer writes nothing for a short answer (under both thresholds)", async () => {
  const r = rig();
  r.event("x".repeat(50), 100);
  r.event("y".repeat(40), 100);
  await r.cp.close();
  assert.equal(r.writes.length, 0);
  assert.equal(r.cp.lastEventAt, 200, "the last event time is kept for the in-memory window");
});

Deno.test("StreamCheckpointer checkpoints every N characters and every N ms of streaming", async () => {
  const r = rig();
  r.event("a".repeat(120)); // 120 chars ≥ 100 → checkpoint 1
  await r.flush();
  r.event("b".repeat(10), 1000); // 1 s since the last → checkpoint 2
  await r.flush();
  r.event("c".repeat(10), 10); // neither threshold
  await r.flush();
  await r.cp.close();
  assert.equal(r.writes.length, 2);
  const last = r.writes[1];
  assert.equal(last.kind, "checkpoint");
  assert.equal(last.leaseMs, 420_000);
  assert.equal(last.record.truncated, true, "a checkpoint reads as truncated");
  assert.equal(last.record.stopReason, null);
  assert.equal(last.record.inputTokens, 50, "with the usage the stream reported");
  const body = JSON.parse(new TextDecoder().decode(last.raw));
  assert.equal(body.content[0].text, "a".repeat(120) + "b".repeat(10), "the partial Message so far");
  assert.equal(r.cp.stats.written, 2);
});

Deno.test("StreamCheckpointer keeps one write in flight and none after close()", async () => {
  const r = rig();
  r.hold();
  r.event("a".repeat(150));
  await r.tick();
  r.event("b".repeat(150)); // due, but the first is still in flight: skipped
  await r.tick();
  assert.equal(r.writes.length, 1);
  const closing = r.cp.close();
  let closed = false;
  closing.then(() => (closed = true));
  await r.tick();
  assert.equal(closed, false, "close() waits for the write in flight");
  r.release();
  await closing;
  r.event("c".repeat(500), 5000);
  await r.tick();
  assert.equal(r.writes.length, 1, "nothing is written after close()");
});

Deno.test("StreamCheckpointer with both thresholds at 0 is off", async () => {
  const r = rig({ checkpointEveryMs: 0, checkpointEveryChars: 0 });
  r.event("a".repeat(10_000), 60_000);
  await r.cp.close();
  assert.equal(r.writes.length, 0);
});
