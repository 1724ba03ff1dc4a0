import assert from "node:assert/strict";
import {
  Progress,
  type ProgressSnapshot,
  renderBar,
  renderHeartbeat,
  renderSettledLine,
} from "../../../../local/demo/progress.ts";
import { completed, id, inReview } from "./_results.ts";

const SNAP: ProgressSnapshot = {
  total: 12,
  answered: 7,
  settled: 5,
  byStatus: { completed: 4, parse_failed: 1, generating: 3, waiting: 4 },
  elapsedMs: 6_240,
};

function recorder(): { text: () => string; sink: { write(s: string): void } } {
  let buf = "";
  return { text: () => buf, sink: { write: (s) => (buf += s) } };
}

Deno.test("renderBar() fills in proportion to settled conversations and lists the statuses, largest first", () => {
  assert.equal(
    renderBar(SNAP),
    "[##########--------------]  5/12  completed 4 · waiting 4 · generating 3 · parse_failed 1  6.2 s",
  );
  assert.match(renderBar({ ...SNAP, settled: 12 }), /^\[#{24}\] 12\/12/);
  assert.ok(renderBar({ ...SNAP, settled: 0 }).startsWith(`[${"-".repeat(24)}]  0/12`));
});

Deno.test("renderSettledLine() and renderHeartbeat() are plain text for logs", () => {
  assert.equal(renderSettledLine(completed(1), 3, 12), `  [ 3/12] ${id(1)}  completed  direct  350 ms`);
  assert.equal(renderSettledLine(inReview(2), 4, 12), `  [ 4/12] ${id(2)}  parse_failed  350 ms`);
  assert.equal(
    renderHeartbeat(SNAP),
    "  … 5/12 settled; completed 4 · waiting 4 · generating 3 · parse_failed 1 (6 s)",
  );
});

Deno.test("Progress off a terminal: no control codes, a heartbeat only after a quiet spell", () => {
  let t = 0;
  const out = recorder();
  const p = new Progress(out.sink, false, 15_000, () => t);
  p.update(SNAP);
  assert.equal(out.text(), "", "nothing new to say yet");
  p.settled(completed(1), 12);
  t = 14_000;
  p.update(SNAP);
  t = 30_000;
  p.update(SNAP);
  p.update(SNAP);
  p.done(SNAP);
  const lines = out.text().split("\n").filter(Boolean);
  assert.equal(lines.length, 2, out.text());
  assert.match(lines[0], /^ {2}\[ 1\/12\] /);
  assert.match(lines[1], /^ {2}… 5\/12 settled/);
  assert.ok(!out.text().includes("\x1b") && !out.text().includes("\r"));
});

Deno.test("Progress on a terminal: the bar is redrawn in place and finished lines go above it", () => {
  const out = recorder();
  const p = new Progress(out.sink, true, 15_000, () => 0);
  p.update(SNAP);
  p.settled(completed(1), 12);
  p.update({ ...SNAP, settled: 6 });
  p.done({ ...SNAP, settled: 12 });
  const text = out.text();
  assert.ok(text.startsWith("\r\x1b[2K[##########"), JSON.stringify(text.slice(0, 30)));
  // The bar is erased before the finished line, so the line never shares a row with a stale bar.
  assert.ok(text.includes(`\r\x1b[2K  [ 1/12] ${id(1)}`), JSON.stringify(text));
  assert.ok(text.endsWith("12/12  completed 4 · waiting 4 · generating 3 · parse_failed 1  6.2 s\n"));
});
