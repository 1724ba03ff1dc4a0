/**
 * `deno task seed:remote` (runbook Step 4b) on a scratch database that has the schema but no seed: the dry run
 * changes nothing, the real run loads the scaffolding and creates the named user once, a second run inserts
 * nothing, and an unknown --user-id fails with the fix.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../../local/paths.ts";
import { createScratchDb } from "../database/_scratch_db.ts";
import { runDeno } from "../../support/run_deno.ts";

function seedRemote(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runDeno(["run", "-A", join(REPO_ROOT, "cli/seed_remote.ts"), ...args]);
}

Deno.test("seed:remote: dry run, load, idempotent re-run, named user, exports for Step 5", async () => {
  const db = await createScratchDb("seedremote");
  try {
    const personas = async () => (await db.sql`select count(*)::int as n from public.personas`)[0].n;
    const users = async () =>
      (await db.sql`select count(*)::int as n from auth.users where email = 'smoke@example.com'`)[0].n;
    assert.equal(await personas(), 0, "db push alone loads no scaffolding");

    const dry = await seedRemote(["--db-url", db.url, "--email", "smoke@example.com", "--dry-run"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /personas\s+would insert [1-9]\d*/);
    assert.match(dry.stderr, /would create smoke@example\.com/);
    assert.match(dry.stderr, /dry run: nothing changed/);
    assert.equal(await personas(), 0, "the dry run rolled back");
    assert.equal(await users(), 0);

    const real = await seedRemote(["--db-url", db.url, "--email", "smoke@example.com"]);
    assert.equal(real.code, 0, real.stderr);
    const exported = Object.fromEntries(
      real.stdout.trim().split("\n").map((l) => /^export (\w+)=(\S+)$/.exec(l)!.slice(1, 3)),
    );
    assert.deepEqual(Object.keys(exported).sort(), ["ARC_ID", "PERSONA_ID", "TOPIC_ID", "USER_ID"]);
    assert.ok(await personas() > 0);
    assert.equal(await users(), 1);
    const [user] = await db.sql`select id::text from auth.users where email = 'smoke@example.com'`;
    assert.equal(exported.USER_ID, user.id);

    const again = await seedRemote(["--db-url", db.url, "--email", "smoke@example.com"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /personas\s+inserted 0/);
    assert.match(again.stderr, /exists/);
    assert.equal(again.stdout, real.stdout, "same user and ids");

    const unknown = await seedRemote(["--db-url", db.url, "--user-id", crypto.randomUUID()]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no auth\.users row has id .*Add user/);

    const bad = await seedRemote(["--db-url", db.url, "--emial", "x"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim(), "seed:remote: unknown option '--emial' (see --help)");
  } finally {
    await db.drop();
  }
});

Deno.test("seed:remote: before the migrations it says to push them", async () => {
  const db = await createScratchDb("seedremote_empty", []);
  try {
    const res = await seedRemote(["--db-url", db.url, "--dry-run"]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /apply the migrations first \(supabase db push/);
  } finally {
    await db.drop();
  }
});
