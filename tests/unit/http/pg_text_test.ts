import assert from "node:assert/strict";
import { z } from "zod";
import { hasNoNul, NO_NUL_MESSAGE } from "../../../shared/http/pg_text.ts";

Deno.test("hasNoNul() refuses U+0000 anywhere and accepts every other character", () => {
  assert.equal(hasNoNul("a\u0000b"), false);
  assert.equal(hasNoNul("\u0000"), false);
  assert.equal(hasNoNul(""), true);
  assert.equal(hasNoNul("\u0001\u202e\ud800 é 😀"), true, "other controls and lone surrogates are storable");
});

Deno.test("hasNoNul() as a zod refinement names the problem", () => {
  const parsed = z.object({ reason: z.string().refine(hasNoNul, NO_NUL_MESSAGE) }).safeParse({
    reason: "x\u0000",
  });
  assert.equal(parsed.success, false);
  assert.equal(parsed.error?.issues[0].message, NO_NUL_MESSAGE);
  assert.deepEqual(parsed.error?.issues[0].path, ["reason"]);
});
