import assert from "node:assert/strict";
import { platformFromEnv } from "../../shared/env.ts";

function env(vars: Record<string, string>) {
  return { get: (k: string) => vars[k] };
}

Deno.test("platformFromEnv() accepts the legacy service role key", () => {
  const e = platformFromEnv(
    env({ SUPABASE_URL: "http://x:1/", SUPABASE_DB_URL: "postgres://x", SUPABASE_SERVICE_ROLE_KEY: "k1" }),
  );
  assert.equal(e.supabaseUrl, "http://x:1");
  assert.equal(e.serviceKey, "k1");
  assert.deepEqual(e.serviceKeys, ["k1"]);
});

Deno.test("platformFromEnv() accepts SUPABASE_SECRET_KEYS as JSON and keeps every key", () => {
  const e = platformFromEnv(env({
    SUPABASE_URL: "http://x",
    SUPABASE_DB_URL: "postgres://x",
    SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","other":"sb_secret_b"}',
  }));
  assert.equal(e.serviceKey, "sb_secret_a");
  assert.deepEqual(e.serviceKeys, ["sb_secret_a", "sb_secret_b"]);
});

Deno.test("platformFromEnv() fails at boot with the variable named", () => {
  assert.throws(() => platformFromEnv(env({ SUPABASE_DB_URL: "postgres://x" })), /SUPABASE_URL/);
  assert.throws(
    () =>
      platformFromEnv(env({ SUPABASE_URL: "http://x", SUPABASE_DB_URL: "p", SUPABASE_SECRET_KEYS: "nope" })),
    /SUPABASE_SECRET_KEYS/,
  );
  assert.throws(
    () => platformFromEnv(env({ SUPABASE_URL: "http://x", SUPABASE_DB_URL: "p" })),
    /SERVICE_ROLE_KEY/,
  );
});
