import assert from "node:assert/strict";
import { log, logger, redactInLogs, RUNBOOK_LINES, setLogSink } from "../../shared/log.ts";

function capture(fn: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    fn();
  } finally {
    setLogSink(prev);
  }
  return lines.map((l) => {
    assert.ok(!l.includes("\n"), "one line per entry");
    return JSON.parse(l);
  });
}

Deno.test("log() writes one JSON object per call with ts, level, event, msg and the fields", () => {
  const [entry] = capture(() => log("info", "parse.done", { conversation_id: "c1", ms: 3 }, "done\nnext"));
  assert.deepEqual(Object.keys(entry), ["ts", "level", "event", "msg", "conversation_id", "ms"]);
  assert.equal(entry.level, "info");
  assert.equal(entry.event, "parse.done");
  assert.equal(entry.msg, "done\nnext");
  assert.equal(entry.conversation_id, "c1");
  assert.ok(!Number.isNaN(Date.parse(entry.ts as string)));
});

Deno.test("log() leaves msg out when there is none", () => {
  const [entry] = capture(() => log("debug", "e"));
  assert.equal("msg" in entry, false);
});

Deno.test("log() writes an Error field as name and message (JSON.stringify alone gives {})", () => {
  const err = new TypeError("bad input");
  const [entry] = capture(() => log("error", "e", { err }));
  assert.deepEqual(entry.err, { name: "TypeError", message: "bad input" });
});

Deno.test("redactInLogs() hides a secret in every field, the message and nested values", () => {
  const secret = `sk-${crypto.randomUUID()}`;
  redactInLogs(secret);
  const entries = capture(() =>
    log(
      "warn",
      "e",
      { header: `Bearer ${secret}`, nested: { key: secret }, err: new Error(`key ${secret}`) },
      secret,
    )
  );
  const line = JSON.stringify(entries[0]);
  assert.ok(!line.includes(secret), line);
  assert.equal(entries[0].msg, "[redacted]");
  assert.equal(entries[0].header, "Bearer [redacted]");
});

Deno.test("redactInLogs() ignores undefined and values shorter than 8 characters", () => {
  redactInLogs(undefined);
  redactInLogs("");
  redactInLogs("abc1234");
  const [entry] = capture(() => log("info", "e", { v: "abc1234" }));
  assert.equal(entry.v, "abc1234");
});

Deno.test("setLogSink() returns the sink it replaced, so a test can put it back", () => {
  const a: string[] = [];
  const b: string[] = [];
  const original = setLogSink((l) => a.push(l));
  const replaced = setLogSink((l) => b.push(l));
  logger.info("x");
  replaced("direct");
  setLogSink(original);
  assert.equal(b.length, 1);
  assert.deepEqual(a, ["direct"]);
});

Deno.test("logger.<level>() logs at that level", () => {
  const entries = capture(() => {
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d", { conversation_id: "c" }, "m");
  });
  assert.deepEqual(entries.map((e) => e.level), ["debug", "info", "warn", "error"]);
  assert.equal(entries[3].msg, "m");
});

Deno.test("RUNBOOK_LINES keep the wording docs/RUNBOOK.md tells operators to grep for", () => {
  assert.equal(RUNBOOK_LINES.storingRaw, "[storeRawResponse] Storing raw response for conversation...");
  assert.equal(
    RUNBOOK_LINES.rawUploaded("raw/u/c.json"),
    "[storeRawResponse] ✅ Raw file uploaded to raw/u/c.json",
  );
  assert.equal(RUNBOOK_LINES.parsing, "[parseAndStoreFinal] Parsing conversation...");
  assert.equal(
    RUNBOOK_LINES.parseSucceeded("extracted"),
    "[parseAndStoreFinal] ✅ Extracted parse succeeded",
  );
  assert.equal(
    RUNBOOK_LINES.parseSucceeded("jsonrepair"),
    "[parseAndStoreFinal] ✅ jsonrepair parse succeeded",
  );
});
