/**
 * local/user_token.ts: the pure part (durations). Finding users and minting tokens against a real database is
 * tests/integration/cli/token_test.ts.
 */
import assert from "node:assert/strict";
import { parseDuration } from "../../../local/user_token.ts";

Deno.test("parseDuration() reads 90s, 30m, 1h, 7d and refuses the rest", () => {
  assert.deepEqual(["90s", "30m", "1h", "7d", "120"].map(parseDuration), [90, 1800, 3600, 604_800, 120]);
  for (const bad of ["0h", "1w", "-1h", "h", "", "400d"]) assert.equal(parseDuration(bad), null, bad);
});
