/**
 * Every command of deno.json answers `--help` with its usage on stdout and exit 0, and an unknown option with
 * one line on stderr and exit 2 — never a stack trace, never work started (local/parse_cli.ts is the contract).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../../local/paths.ts";
import { runDeno } from "../../support/run_deno.ts";

const tasks: Record<string, string> = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json"))).tasks;
/** The commands: every task that runs a script of ours (deno test/bench/fmt tasks are deno's own CLIs). */
const CLIS = Object.entries(tasks).filter(([, cmd]) => /^deno run /.test(cmd)).map(([name]) => name);

function task(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runDeno(["task", "-q", name, ...args]);
}

Deno.test("deno.json lists the CLIs this test covers", () => {
  for (
    const name of ["health", "reparse", "verify", "token", "seed:remote", "stack:start", "db:reset", "start"]
  ) {
    assert.ok(CLIS.includes(name), name);
  }
});

Deno.test("deno.json lists deno task export (issue 21), so the loop below covers it", () => {
  assert.ok(CLIS.includes("export"));
});

for (const name of CLIS) {
  Deno.test(`deno task ${name} --help prints the usage and exits 0; an unknown option exits 2 with one line`, async () => {
    const help = await task(name, ["--help"]);
    assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
    assert.match(help.stdout, /deno task|usage|\.\/bin\//i, `${name} --help prints a usage`);
    assert.ok(help.stdout.trim().split("\n").length >= 1);

    const bad = await task(name, ["--definitely-not-an-option"]);
    assert.equal(bad.code, 2, `${name}: ${bad.stdout}\n${bad.stderr}`);
    const lines = bad.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `${name}: one line, got:\n${bad.stderr}`);
    assert.match(lines[0], /--definitely-not-an-option/, `${name} names the bad option`);
    assert.doesNotMatch(bad.stderr, /^\s+at /m, "no stack trace");
  });
}
