/**
 * The write-ahead (shared/generate/write_ahead.ts): the bytes and the metadata in one statement before the
 * upload, the in-memory window logged, and a refused write-ahead retried beside the upload until it commits or
 * is stopped — never thrown.
 */
import assert from "node:assert/strict";
import type { WriteAheadInput } from "../../../shared/generate/conversation_repo.ts";
import { writeAhead } from "../../../shared/generate/write_ahead.ts";
import { captureLogs, dbDown, generatingRow, type Harness, harness, timerOf } from "./_fakes.ts";

const logs = captureLogs();

const window = {
  lastByteAt: 0,
  checkpoints: { written: 2, failed: 1, writeMs: 3.25, lastBytes: 10 },
  checkpointsClosed: Promise.resolve(),
};

async function rig(): Promise<{ h: Harness; input: WriteAheadInput }> {
  const h = harness();
  const conversationId = await generatingRow(h);
  const input: WriteAheadInput = {
    conversationId,
    kind: "write_ahead",
    raw: new TextEncoder().encode('{"type":"message"}'),
    leaseMs: 120_000,
    record: {
      rawSha256: "a".repeat(64),
      stopReason: "end_turn",
      model: "claude-sonnet-4-5",
      inputTokens: 1,
      outputTokens: 2,
      costUsd: 0.001,
      truncated: false,
      attempts: 1,
    },
  };
  return { h, input };
}

Deno.test("writeAhead() commits the copy at once and logs the in-memory window with the checkpoints", async () => {
  const { h, input } = await rig();
  h.clock.t = 7;
  logs.length = 0;
  const ahead = await writeAhead(h.deps, input, timerOf(h), window);
  assert.deepEqual([ahead.refused, ahead.written], [false, true]);
  assert.equal(h.repo.writtenAhead.get(input.conversationId)?.kind, "write_ahead");
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.equal(line.memory_window_ms, 7);
  assert.deepEqual([line.checkpoints, line.checkpoint_failures, line.checkpoint_write_ms], [2, 1, 3.3]);
  await ahead.settled;
  assert.deepEqual(h.repo.calls, ["writeAhead"], "no retry after a commit");
});

Deno.test("writeAhead() leaves a row that is no longer generating alone, without retrying", async () => {
  const { h, input } = await rig();
  h.repo.rows.get(input.conversationId)!.processing_status = "raw_stored";
  logs.length = 0;
  const ahead = await writeAhead(h.deps, input, timerOf(h), window);
  assert.deepEqual([ahead.refused, ahead.written], [false, false]);
  await ahead.settled;
  assert.equal(h.repo.calls.length, 1);
  assert.ok(logs.some((l) => l.event === "claude_result_unrecorded" && l.reason === "not generating"));
});

Deno.test("writeAhead() retries a refused write-ahead every 250 ms until it commits", async () => {
  const { h, input } = await rig();
  const real = h.repo.writeAhead.bind(h.repo);
  let calls = 0;
  h.repo.writeAhead = (i) => ++calls <= 3 ? Promise.reject(dbDown()) : real(i);
  const ahead = await writeAhead(h.deps, input, timerOf(h), window);
  assert.equal(ahead.refused, true);
  await ahead.settled;
  assert.equal(ahead.written, true, "the fourth try committed");
  assert.equal(calls, 4);
  assert.deepEqual(h.clock.sleeps, [250, 250, 250]);
});

Deno.test("writeAhead() stops retrying when told (the upload ended) and within half the lease otherwise", async () => {
  const stopped = await rig();
  stopped.h.repo.down.add("writeAhead");
  const ahead = await writeAhead(stopped.h.deps, stopped.input, timerOf(stopped.h), window);
  const triedBeforeStop = stopped.h.repo.calls.length;
  ahead.stop();
  await ahead.settled;
  assert.equal(ahead.written, false);
  assert.equal(stopped.h.repo.calls.length, triedBeforeStop, "no try after stop()");
  assert.ok(stopped.h.clock.t < 60_000, "it ended before its own limit");

  const lease = await rig();
  lease.h.repo.down.add("writeAhead");
  const left = await writeAhead(lease.h.deps, lease.input, timerOf(lease.h), window);
  await left.settled;
  assert.equal(left.written, false);
  assert.equal(lease.h.clock.t, 60_000, "tries for half of the 120 s lease");
});

/** A rig with the log-ahead on after 3 ms, and a write-ahead statement that ends only when `release()` is called. */
async function slowRig(): Promise<{ h: Harness; input: WriteAheadInput; release: () => void }> {
  const { h, input } = await rig();
  h.deps.config = { ...h.deps.config, logAheadAfterMs: 3 };
  const real = h.repo.writeAhead.bind(h.repo);
  let release = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  h.repo.writeAhead = async (i) => {
    await gate;
    return real(i);
  };
  return { h, input, release };
}

Deno.test("writeAhead() logs the body ahead when the statement has not committed after logAheadAfterMs", async () => {
  const { h, input, release } = await slowRig();
  logs.length = 0;
  const pending = writeAhead(h.deps, input, timerOf(h), window);
  // The fake clock's sleep(3) has returned; the statement still hangs.
  await new Promise((r) => setTimeout(r, 0));
  const parts = logs.filter((l) => l.event === "raw_response_logged");
  assert.equal(parts.length, 1);
  assert.deepEqual(
    [parts[0].conversation_id, parts[0].raw_sha256, parts[0].part, parts[0].parts],
    [input.conversationId, "a".repeat(64), 0, 1],
  );
  assert.equal(atob(String(parts[0].data)), '{"type":"message"}');
  assert.deepEqual(parts[0].meta, {
    stop_reason: "end_turn",
    model: "claude-sonnet-4-5",
    usage: { input_tokens: 1, output_tokens: 2 },
    truncated: false,
  });
  release();
  const ahead = await pending;
  assert.equal(ahead.written, true);
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.deepEqual([line.log_ahead_parts, line.log_ahead_ms, line.durable_window_ms], [1, 3, 3]);
  assert.deepEqual(h.clock.sleeps, [3]);
});

Deno.test("writeAhead() logs nothing when the statement commits before logAheadAfterMs", async () => {
  const { h, input } = await rig();
  h.deps.config = { ...h.deps.config, logAheadAfterMs: 3 };
  // The log-ahead timer fires only after the commit.
  let fire = () => {};
  h.clock.sleep = (ms) => {
    h.clock.sleeps.push(ms);
    return new Promise((resolve) => (fire = resolve));
  };
  logs.length = 0;
  const ahead = await writeAhead(h.deps, input, timerOf(h), window);
  fire();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(ahead.written, true);
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 0);
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.equal(line.log_ahead_parts, undefined);
  assert.equal(line.durable_window_ms, line.memory_window_ms);
});

Deno.test("writeAhead() logs every answer with 0 and none with -1", async () => {
  for (const [after, expected] of [[0, 1], [-1, 0]] as const) {
    const { h, input } = await rig();
    h.deps.config = { ...h.deps.config, logAheadAfterMs: after };
    logs.length = 0;
    await writeAhead(h.deps, input, timerOf(h), window);
    assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, expected, `after ${after}`);
    assert.deepEqual(h.clock.sleeps, [], "no timer either way");
  }
});

Deno.test("writeAhead() counts the log-ahead's delay from the last byte, not from the statement's start", async () => {
  const { h, input, release } = await slowRig();
  h.clock.t = 1; // 1 ms already spent since the last byte (lastByteAt 0)
  const pending = writeAhead(h.deps, input, timerOf(h), window);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(h.clock.sleeps, [2], "the timer waits for what is left of the 3 ms");
  release();
  await pending;
});

Deno.test("writeAhead() logs at once, before any wait, when the log-ahead is already due", async () => {
  const { h, input, release } = await slowRig();
  h.clock.t = 5; // past the 3 ms already (a busy event loop, a slow end of stream)
  let closeCheckpoints = () => {};
  const checkpointsClosed = new Promise<void>((resolve) => (closeCheckpoints = resolve));
  logs.length = 0;
  const pending = writeAhead(h.deps, input, timerOf(h), { ...window, checkpointsClosed });
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 1, "logged synchronously");
  assert.deepEqual(h.clock.sleeps, [], "no timer");
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(h.repo.calls, [], "the statement waits for the checkpoint still landing");
  closeCheckpoints();
  release();
  const ahead = await pending;
  assert.equal(ahead.written, true);
  assert.deepEqual(h.repo.calls, ["writeAhead"]);
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.deepEqual([line.log_ahead_ms, line.durable_window_ms], [5, 5]);
});

Deno.test("writeAhead() logs at once when other generations share the worker's event loop", async () => {
  const { h, input, release } = await slowRig();
  logs.length = 0;
  const pending = writeAhead({ ...h.deps, load: { generations: 2 } }, input, timerOf(h), window);
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 1, "logged synchronously");
  assert.deepEqual(h.clock.sleeps, [], "no timer to fire late");
  release();
  await pending;
});

Deno.test("writeAhead() logs at once when the database refuses the first attempt (a restart may take seconds)", async () => {
  const { h, input } = await rig();
  h.deps.config = { ...h.deps.config, logAheadAfterMs: 3 };
  let fire = () => {};
  h.clock.sleep = (ms) => {
    h.clock.sleeps.push(ms);
    return new Promise((resolve) => (fire = resolve)); // the 3 ms timer has not fired
  };
  h.repo.down.add("writeAhead");
  logs.length = 0;
  const ahead = await writeAhead(h.deps, input, timerOf(h), window);
  assert.equal(ahead.refused, true);
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 1, "logged before any retry");
  fire();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 1, "and only once");
  ahead.stop();
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.equal(line.log_ahead_parts, 1);

  const off = await rig();
  off.h.deps.config = { ...off.h.deps.config, logAheadAfterMs: -1 };
  off.h.repo.down.add("writeAhead");
  logs.length = 0;
  const quiet = await writeAhead(off.h.deps, off.input, timerOf(off.h), window);
  quiet.stop();
  await quiet.settled;
  assert.equal(logs.filter((l) => l.event === "raw_response_logged").length, 0, "off means off");
});
