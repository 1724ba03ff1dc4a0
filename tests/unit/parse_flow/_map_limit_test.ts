import assert from "node:assert/strict";
import { mapLimit } from "../../../shared/parse_flow/_map_limit.ts";

/** A promise resolved by the test, so the order of completion is chosen, not timed. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

Deno.test("mapLimit() keeps the input order whatever order the calls finish in", async () => {
  const gates = [gate(), gate(), gate()];
  const done = mapLimit([0, 1, 2], 3, async (item, index) => {
    assert.equal(item, index);
    await gates[item].promise;
    return `r${item}`;
  });
  gates[2].open();
  gates[0].open();
  gates[1].open();
  assert.deepEqual(await done, ["r0", "r1", "r2"]);
});

Deno.test("mapLimit() never has more than `limit` calls in flight and runs each item once", async () => {
  let inFlight = 0;
  let peak = 0;
  const seen: number[] = [];
  const items = Array.from({ length: 20 }, (_, i) => i);
  const out = await mapLimit(items, 3, async (item) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    seen.push(item);
    await Promise.resolve();
    await Promise.resolve();
    inFlight--;
    return item * 2;
  });
  assert.equal(peak, 3);
  assert.deepEqual(seen.sort((a, b) => a - b), items);
  assert.deepEqual(out, items.map((i) => i * 2));
});

Deno.test("mapLimit() with a limit of 0 or less still makes progress, one at a time", async () => {
  for (const limit of [0, -5]) {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([1, 2, 3], limit, async (x) => {
      peak = Math.max(peak, ++inFlight);
      await Promise.resolve();
      inFlight--;
      return x;
    });
    assert.deepEqual(out, [1, 2, 3]);
    assert.equal(peak, 1);
  }
});

Deno.test("mapLimit() of no items calls nothing and answers []", async () => {
  let calls = 0;
  assert.deepEqual(await mapLimit([], 4, () => Promise.resolve(++calls)), []);
  assert.equal(calls, 0);
});

Deno.test("mapLimit() rejects with the error of a failing call", async () => {
  await assert.rejects(
    mapLimit([1, 2, 3], 2, (x) => x === 2 ? Promise.reject(new Error("boom 2")) : Promise.resolve(x)),
    /boom 2/,
  );
});
