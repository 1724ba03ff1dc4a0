import assert from "node:assert/strict";
import { testStackEnv } from "../../../local/test_env.ts";

Deno.test("testStackEnv(): its own folder, the dev ports + 10 by default, LOCAL_TEST_* when set", () => {
  const none = testStackEnv(() => undefined);
  assert.match(none.LOCAL_STACK_DIR, /\/\.local-stack-test$/);
  assert.deepEqual([none.LOCAL_DB_PORT, none.LOCAL_API_PORT, none.LOCAL_CLAUDE_PORT], [
    "54332",
    "54331",
    "54340",
  ]);
  assert.equal(none.LOCAL_CONSOLE_PORT, "54333");
  assert.equal(none.LOCAL_FUNCTIONS_NO_OUTBOUND, "1");

  const dev: Record<string, string> = {
    LOCAL_DB_PORT: "59322",
    LOCAL_API_PORT: "59321",
    LOCAL_CLAUDE_PORT: "59330",
    LOCAL_CONSOLE_PORT: "59323",
  };
  const derived = testStackEnv((n) => dev[n]);
  assert.deepEqual([derived.LOCAL_DB_PORT, derived.LOCAL_API_PORT, derived.LOCAL_CLAUDE_PORT], [
    "59332",
    "59331",
    "59340",
  ]);
  assert.equal(derived.LOCAL_CONSOLE_PORT, "59333");

  const own: Record<string, string> = {
    ...dev,
    LOCAL_TEST_STACK_DIR: "/srv/t",
    LOCAL_TEST_DB_PORT: "6001",
    LOCAL_TEST_API_PORT: "6002",
    LOCAL_TEST_CLAUDE_PORT: "6003",
    LOCAL_TEST_CONSOLE_PORT: "6004",
    LOCAL_STACK_DIR: "/srv/dev",
  };
  const set = testStackEnv((n) => own[n]);
  assert.deepEqual(set, {
    LOCAL_STACK_DIR: "/srv/t",
    LOCAL_DB_PORT: "6001",
    LOCAL_API_PORT: "6002",
    LOCAL_CLAUDE_PORT: "6003",
    LOCAL_CONSOLE_PORT: "6004",
    LOCAL_FUNCTIONS_NO_OUTBOUND: "1",
  });
});
