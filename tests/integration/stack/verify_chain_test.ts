/**
 * `deno task verify`'s chain checks (cli/verify_chain.ts): they pass on the running stack; they fail with a
 * clear line and its fix on a database without the Vault secrets, without pg_net, and when the functions are
 * down (project_url pointing at a closed port).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliDbUrl, REPO_ROOT } from "../../../local/paths.ts";
import { supabaseCli } from "../../../local/proc.ts";
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { createScratchDb } from "../database/_scratch_db.ts";
import { serviceKey, stackEnv, stackTest } from "../../support/stack.ts";
import { runDeno } from "../../support/run_deno.ts";

function verify(args: string[]): Promise<{ code: number; out: string }> {
  return runDeno(["run", "-A", join(REPO_ROOT, "cli", "verify.ts"), ...args]);
}

function failLines(out: string): string[] {
  return out.split("\n").filter((l) => l.startsWith("FAIL"));
}

stackTest("verify: the whole chain passes on the running stack", async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  const { code, out } = await verify(["--db-url", stackEnv().SUPABASE_DB_URL, "--errors-since", since]);
  assert.deepEqual(failLines(out), [], out);
  assert.equal(code, 0, out);
  for (
    const line of [
      /PASS {2}extension pg_net: /,
      /PASS {2}extension pg_cron: installed/,
      /PASS {2}Vault secrets project_url, service_role_key: both set/,
      /PASS {2}cron job sweep-conversations: scheduled/,
      /PASS {2}cron job storage-health-monitor: scheduled/,
      /PASS {2}pg_net round trip parse-conversation: answered 200/,
      /PASS {2}pg_net round trip storage-health-monitor: answered 200/,
      /PASS {2}pg_net round trip raw-retention: answered 200/,
      /PASS {2}pg_net errors since .*: none/,
    ]
  ) assert.match(out, line);
});

stackTest("verify: with the functions down, each round trip fails with the fix", async () => {
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (dead.addr as Deno.NetAddr).port;
  dead.close();
  const env = stackEnv();
  await syncSecrets(env.SUPABASE_DB_URL, `http://127.0.0.1:${port}`, serviceKey());
  try {
    const since = new Date(Date.now() - 1000).toISOString();
    const { code, out } = await verify(["--db-url", env.SUPABASE_DB_URL, "--errors-since", since]);
    assert.equal(code, 1, out);
    for (const fn of ["parse-conversation", "storage-health-monitor", "raw-retention", "collect-batches"]) {
      assert.match(
        out,
        new RegExp(`FAIL {2}pg_net round trip ${fn}: failed: .*Fix: are the functions up`),
        out,
      );
    }
    assert.match(out, /FAIL {2}pg_net errors since .*: 4 failed requests/);
  } finally {
    await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, serviceKey());
  }
});

Deno.test("verify: a pushed database without Vault secrets, then without pg_net, fails with clear lines", async () => {
  const db = await createScratchDb("verify_chain", []);
  try {
    await supabaseCli(["db", "push", "--db-url", cliDbUrl(db.url), "--yes"]);
    const schemaOnly = await verify(["--db-url", db.url, "--schema-only"]);
    assert.equal(schemaOnly.code, 0, schemaOnly.out);

    const noSecrets = await verify(["--db-url", db.url]);
    assert.equal(noSecrets.code, 1);
    assert.match(
      noSecrets.out,
      /FAIL {2}Vault secrets project_url, service_role_key: project_url and service_role_key not set: .*Fix: deno task secrets:sync --db-url/,
    );
    assert.match(noSecrets.out, /FAIL {2}pg_net round trips: not tried: the Vault secrets are not set/);
    // pg_cron lives only in the cluster's main database: a scratch database is a project without it.
    assert.match(noSecrets.out, /FAIL {2}extension pg_cron: missing: .*Fix: enable pg_cron/);

    await db.sql.unsafe("drop schema net cascade");
    const noNet = await verify(["--db-url", db.url]);
    assert.equal(noNet.code, 1);
    assert.match(
      noNet.out,
      /FAIL {2}extension pg_net: missing: no wake-up, sweep or monitor call can be sent and no alert can fire\. Fix: /,
    );
    assert.match(noNet.out, /FAIL {2}pg_net round trips: not tried: pg_net is missing/);
  } finally {
    await db.drop();
  }
});
