import assert from "node:assert/strict";
import {
  parseSplit,
  splitByCuts,
  splitHash,
  splitOf,
  SplitSpecError,
  stratumCuts,
} from "../../../shared/export/split.ts";

Deno.test("parseSplit reads name=ratio lists and refuses bad ones", () => {
  assert.deepEqual(parseSplit("train=0.9,eval=0.1"), [{ name: "train", ratio: 0.9 }, {
    name: "eval",
    ratio: 0.1,
  }]);
  for (const bad of ["train=0.9", "train=0.5,train=0.5", "train", "train=0,eval=1", "Train=1"]) {
    assert.throws(() => parseSplit(bad), SplitSpecError, bad);
  }
});

Deno.test("the split of a conversation depends only on the seed and its id; ratios hold roughly", () => {
  const parts = parseSplit("train=0.9,eval=0.1");
  const ids = Array.from(
    { length: 5000 },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  );
  const a = ids.map((id) => splitOf(parts, splitHash(1, id)));
  assert.deepEqual(ids.map((id) => splitOf(parts, splitHash(1, id))), a);
  const evalShare = a.filter((s) => s === "eval").length / ids.length;
  assert.ok(evalShare > 0.08 && evalShare < 0.12, String(evalShare));
  const b = ids.map((id) => splitOf(parts, splitHash(2, id)));
  assert.notDeepEqual(a, b, "another seed, another split");
  for (const h of [splitHash(0, "x"), splitHash(99, "y")]) assert.ok(h >= 0 && h < 1);
});

Deno.test("stratified cuts give each stratum exact shares (largest remainder), members by hash", () => {
  const parts = parseSplit("train=0.9,eval=0.1");
  const hashes = Array.from({ length: 10 }, (_, i) => splitHash(3, `id${i}`));
  const cuts = stratumCuts(parts, hashes);
  const got = hashes.map((h) => splitByCuts(parts, cuts, h));
  assert.equal(got.filter((s) => s === "train").length, 9);
  assert.equal(got.filter((s) => s === "eval").length, 1);
  // 3 members at 0.5/0.5: 2 and 1, never 3 and 0.
  const three = parseSplit("a=0.5,b=0.5");
  const h3 = [0.1, 0.5, 0.9];
  const c3 = stratumCuts(three, h3);
  assert.deepEqual(h3.map((h) => splitByCuts(three, c3, h)), ["a", "a", "b"]);
});
