/** tests/support/run_deno.ts: exit status and both streams come back apart and together, with NO_COLOR set. */
import assert from "node:assert/strict";
import { REPO_ROOT } from "../../../local/paths.ts";
import { runDeno } from "../../support/run_deno.ts";

Deno.test("runDeno() returns the exit status, stdout, stderr and both, from the repository root", async () => {
  const script = [
    'console.log(Deno.env.get("NO_COLOR"), Deno.env.get("EXTRA"));',
    'console.error("to stderr");',
    "console.log(Deno.cwd());",
    "Deno.exit(3);",
  ].join("");
  const res = await runDeno(["eval", script], { env: { EXTRA: "x" } });
  assert.equal(res.code, 3);
  assert.equal(res.stdout, `1 x\n${REPO_ROOT}\n`);
  assert.equal(res.stderr, "to stderr\n");
  assert.equal(res.out, res.stdout + res.stderr);
});

Deno.test("runDeno() with clearEnv passes only what it is given (and NO_COLOR)", async () => {
  const res = await runDeno(["eval", 'console.log(Deno.env.get("HOME") ?? "none", Deno.env.get("ONLY"))'], {
    env: { ONLY: "y" },
    clearEnv: true,
  });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, "none y\n");
});
