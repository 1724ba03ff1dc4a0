/**
 * The stack as a whole: `stack:status` agrees with the running gateway, unprovided Supabase services answer a
 * clear 404, and the new-style `sb_secret_…` key works against Storage like the legacy service key.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { REPO_ROOT } from "../../../local/paths.ts";
import { sql, stackEnv, stackTest } from "../../support/stack.ts";

stackTest("stack:status exits 0 and names the running gateway's pid", async () => {
  const health = await (await fetch(`${stackEnv().SUPABASE_URL}/_internal/health`)).json() as { pid: number };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, "local", "stack.ts"), "status"],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), new RegExp(`gateway\\s+pid ${health.pid}\\b`));
});

stackTest(
  "gateway: PostgREST and the Auth paths outside the subset answer 404 with a pointer to the docs",
  async () => {
    const rest = await fetch(`${stackEnv().SUPABASE_URL}/rest/v1/conversations`);
    assert.equal(rest.status, 404);
    assert.match((await rest.json()).message, /docs\/LOCAL_STACK\.md/);
    // GoTrue's error shape (no X-Supabase-Api-Version header): {code, error_code, msg}.
    const otp = await fetch(`${stackEnv().SUPABASE_URL}/auth/v1/otp`, { method: "POST" });
    assert.equal(otp.status, 404);
    assert.match((await otp.json()).msg, /docs\/LOCAL_STACK\.md/);
  },
);

stackTest(
  "gateway: an sb_secret_ key acts as the service role on Storage; sb_publishable_ as anon",
  async () => {
    const env = stackEnv();
    assert.ok(env.SUPABASE_SECRET_KEY && env.SUPABASE_PUBLISHABLE_KEY);
    const opts = { auth: { persistSession: false, autoRefreshToken: false } };
    const bucket = `stack-keys-${crypto.randomUUID().slice(0, 8)}`;
    const admin = createClient(env.SUPABASE_URL, env.SUPABASE_SECRET_KEY, opts).storage;
    try {
      assert.equal((await admin.createBucket(bucket, { public: false })).error, null);
      const up = await admin.from(bucket).upload("a/b.json", new TextEncoder().encode("{}"), {
        contentType: "application/json",
      });
      assert.equal(up.error, null);
      const anon = createClient(env.SUPABASE_URL, env.SUPABASE_PUBLISHABLE_KEY, opts).storage;
      const denied = await anon.from(bucket).upload("a/c.json", new TextEncoder().encode("{}"), {
        contentType: "application/json",
      });
      assert.equal((denied.error as unknown as { statusCode: string }).statusCode, "403");
    } finally {
      await sql().begin(async (tx) => {
        await tx`select set_config('storage.allow_delete_query', 'true', true)`;
        await tx`delete from storage.objects where bucket_id = ${bucket}`;
        await tx`delete from storage.buckets where id = ${bucket}`;
      });
    }
  },
);
