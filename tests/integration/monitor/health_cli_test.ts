/** `deno task health`: the same summary from SQL and from the function, as a table or JSON. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { databaseUrl, REPO_ROOT } from "../../../local/paths.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import { stackTest } from "../../support/stack.ts";
import { runDeno } from "../../support/run_deno.ts";

async function health(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const res = await runDeno(["run", "-A", join(REPO_ROOT, "cli", "health.ts"), ...args], {
    env: { DATABASE_URL: databaseUrl() },
  });
  return { code: res.code, out: res.stdout, err: res.stderr };
}

stackTest("deno task health prints the rules table from SQL", async () => {
  const { code, out, err } = await health();
  assert.ok(code === 0, err);
  assert.match(out, /^Pipeline health {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}(OK|FIRING \(\d+\))/);
  assert.match(out, /Last 24 hours \(raw_storage_health\)/);
  assert.match(out, /^ {2}STATE +RULE +VALUE +THRESHOLD +NOTE$/m);
  for (
    const title of [
      "Manual review queue",
      "Parse failure rate",
      "Raw storage growth (24 h)",
      "Stuck in parsing",
    ]
  ) {
    assert.match(out, new RegExp(`^ {2}\\S+ +${title.replace(/[()]/g, "\\$&")} `, "m"), title);
  }
});

stackTest("deno task health --json and --via-function answer the same rules", async () => {
  const fromSql = await health("--json");
  assert.equal(fromSql.code, 0, fromSql.err);
  const viaFunction = await health("--json", "--via-function");
  assert.equal(viaFunction.code, 0, viaFunction.err);
  for (const { out } of [fromSql, viaFunction]) {
    const s = JSON.parse(out);
    assert.equal(s.dry_run, true, "read only");
    assert.deepEqual(s.rules.map((r: { rule: string }) => r.rule), [...RULE_KEYS]);
  }
});

stackTest("deno task health fails with a clear message when the database is unreachable", async () => {
  const { code, err } = await health("--db-url", "postgresql://postgres:postgres@127.0.0.1:1/postgres");
  assert.equal(code, 2);
  assert.match(err, /^\[health\] /);
});
