import assert from "node:assert/strict";
import { fixedClock, systemClock } from "../../../shared/pipeline/clock.ts";

Deno.test("fixedClock() stays at its instant, steps its monotonic reading and never really sleeps", async () => {
  const at = new Date("2025-11-19T12:00:00Z");
  const clock = fixedClock(at, 5);
  assert.equal(clock.now().toISOString(), at.toISOString());
  clock.now().setFullYear(2000);
  assert.equal(
    clock.now().toISOString(),
    at.toISOString(),
    "a caller cannot move the clock by mutating a Date",
  );
  assert.deepEqual([clock.monotonic(), clock.monotonic(), clock.monotonic()], [5, 10, 15]);
  await clock.sleep(60_000); // would time the test out if it slept
});

Deno.test("fixedClock() follows a moving source when given a function", () => {
  let t = 0;
  const clock = fixedClock(() => new Date(t));
  t = 1_000;
  assert.equal(clock.now().getTime(), 1_000);
});

Deno.test("systemClock's monotonic reading never goes back and its sleep waits", async () => {
  const a = systemClock.monotonic();
  await systemClock.sleep(5);
  const b = systemClock.monotonic();
  assert.ok(b >= a + 4, `${b} - ${a}`);
  assert.ok(Math.abs(systemClock.now().getTime() - Date.now()) < 1_000);
});
