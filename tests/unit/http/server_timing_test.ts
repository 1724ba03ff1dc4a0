import assert from "node:assert/strict";
import { parseServerTiming, PhaseTimer } from "../../../shared/http/server_timing.ts";

Deno.test("PhaseTimer adds up each phase, lists phases in a fixed order and always reports total", async () => {
  let t = 100;
  const timer = new PhaseTimer(() => t);
  await timer.time("raw_store", () => Promise.resolve(t += 3));
  await timer.time("db", () => Promise.resolve(t += 2));
  timer.add("db", 1.25);
  assert.equal(timer.get("db"), 3.25);
  assert.equal(timer.get("claude"), 0);
  assert.equal(timer.header(), "raw_store;dur=3.0, db;dur=3.3, total;dur=5.0");
});

Deno.test("PhaseTimer.time() records the phase even when it throws", async () => {
  let t = 0;
  const timer = new PhaseTimer(() => t);
  await assert.rejects(timer.time("claude", () => {
    t += 7;
    return Promise.reject(new Error("overloaded"));
  }));
  assert.equal(timer.get("claude"), 7);
});

Deno.test("parseServerTiming() reads the header back and ignores metrics without a duration", () => {
  assert.deepEqual(parseServerTiming("claude;dur=12.5, cache;desc=hit, total;dur=20"), {
    claude: 12.5,
    total: 20,
  });
  assert.deepEqual(parseServerTiming(null), {});
});
