/**
 * `deno task token`: a token for an existing user (by --user or --email) that the functions accept as that
 * user, with the lifetime asked for; a clear error for an unknown user or a bad duration.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../../local/paths.ts";
import { decodeJwtPayload } from "../../../local/keys.ts";
import { createTestUser, functionsUrl, stackEnv, stackTest } from "../../support/stack.ts";
import { runDeno } from "../../support/run_deno.ts";

function token(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runDeno([
    "run",
    "-A",
    join(REPO_ROOT, "cli", "token.ts"),
    "--db-url",
    stackEnv().SUPABASE_DB_URL,
    ...args,
  ], {
    env: { SUPABASE_JWT_SECRET: stackEnv().SUPABASE_JWT_SECRET },
  });
}

stackTest("token: --user and --email mint a token the functions accept as that user", async () => {
  const user = await createTestUser();
  for (const args of [["--user", user.id], ["--email", user.email, "--expires", "30m"]]) {
    const res = await token(args);
    assert.equal(res.code, 0, res.stderr);
    const jwt = res.stdout.trim();
    assert.doesNotMatch(jwt, /\s/, "stdout is the token alone");
    assert.match(res.stderr, new RegExp(`token for ${user.email} \\(${user.id}\\), expires `));
    const claims = decodeJwtPayload(jwt)!;
    assert.equal(claims.sub, user.id);
    assert.equal(claims.role, "authenticated");
    const life = Number(claims.exp) - Number(claims.iat);
    assert.equal(life, args.includes("30m") ? 1800 : 3600);
    const res2 = await fetch(functionsUrl("review-queue"), { headers: { Authorization: `Bearer ${jwt}` } });
    assert.equal(res2.status, 200, await res2.clone().text());
    await res2.body?.cancel();
  }
});

stackTest("token: an unknown user exits 1 with how to create one; a bad duration exits 2", async () => {
  const unknown = await token(["--email", "nobody-here@test.local"]);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.stderr, /no auth\.users row has email nobody-here@test\.local: create it/);
  const bad = await token(["--user", crypto.randomUUID(), "--expires", "1w"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--expires 1w: use a duration such as 90s, 30m, 1h or 7d/);
});
