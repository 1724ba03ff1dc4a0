/**
 * The gateway's Auth subset (local/gateway/auth/api.ts) through @supabase/supabase-js, as the review console
 * uses it: password sign-in, the user, refresh (rotation: a spent refresh token is refused), sign-up, logout;
 * GoTrue's error codes; and the reviewer role reaching the review-queue function through a real session.
 */
import assert from "node:assert/strict";
import { createClient } from "@supabase/supabase-js";
import { DEMO_LOGIN, ensureConsoleUsers, REVIEWER_LOGIN } from "../../../local/console_users.ts";
import { anonKey, closeSql, functionsUrl, stackEnv } from "../../support/stack.ts";

const env = stackEnv();
await ensureConsoleUsers(env.SUPABASE_DB_URL);

function client() {
  return createClient(env.SUPABASE_URL, anonKey(), {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  });
}

async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  return await fetch(`${env.SUPABASE_URL}/auth/v1/${path}`, {
    ...init,
    headers: { apikey: anonKey(), "content-type": "application/json", ...(init.headers ?? {}) },
  });
}

Deno.test("auth: signInWithPassword returns a GoTrue session whose token carries app_metadata", async () => {
  const sb = client();
  const { data, error } = await sb.auth.signInWithPassword({
    email: REVIEWER_LOGIN.email,
    password: REVIEWER_LOGIN.password,
  });
  assert.equal(error, null);
  assert.equal(data.user?.id, REVIEWER_LOGIN.id);
  assert.equal(data.user?.app_metadata.role, "reviewer");
  assert.equal(data.session?.token_type, "bearer");
  const claims = JSON.parse(
    atob(data.session!.access_token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
  );
  assert.equal(claims.sub, REVIEWER_LOGIN.id);
  assert.equal(claims.role, "authenticated");
  assert.equal(claims.aud, "authenticated");
  assert.equal(claims.app_metadata.role, "reviewer");
  assert.equal(typeof claims.session_id, "string");

  const user = await sb.auth.getUser();
  assert.equal(user.data.user?.email, REVIEWER_LOGIN.email);
  await sb.auth.signOut();
});

Deno.test("auth: a wrong password is 400 invalid_credentials in both error shapes", async () => {
  const { error } = await client().auth.signInWithPassword({
    email: DEMO_LOGIN.email,
    password: "nope-nope",
  });
  assert.equal(error?.status, 400);
  assert.equal(error?.code, "invalid_credentials");
  const legacy = await authFetch("token?grant_type=password", {
    method: "POST",
    body: JSON.stringify({ email: DEMO_LOGIN.email, password: "nope-nope" }),
  });
  assert.deepEqual(await legacy.json(), {
    code: 400,
    error_code: "invalid_credentials",
    msg: "Invalid login credentials",
  });
});

Deno.test("auth: refresh rotates the refresh token; the spent one is refused; logout ends the session", async () => {
  const sb = client();
  const { data } = await sb.auth.signInWithPassword({
    email: DEMO_LOGIN.email,
    password: DEMO_LOGIN.password,
  });
  const first = data.session!;
  const refreshed = await sb.auth.refreshSession({ refresh_token: first.refresh_token });
  assert.equal(refreshed.error, null);
  assert.notEqual(refreshed.data.session?.refresh_token, first.refresh_token);
  const again = await authFetch("token?grant_type=refresh_token", {
    method: "POST",
    headers: { "x-supabase-api-version": "2024-01-01" },
    body: JSON.stringify({ refresh_token: first.refresh_token }),
  });
  assert.equal(again.status, 400);
  assert.equal((await again.json()).code, "refresh_token_already_used");

  const token = refreshed.data.session!.access_token;
  const out = await authFetch("logout?scope=local", {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(out.status, 204);
  const user = await authFetch("user", { headers: { authorization: `Bearer ${token}` } });
  assert.equal(user.status, 403, "the session is gone");
  await user.body?.cancel();
  const unknown = await authFetch("token?grant_type=refresh_token", {
    method: "POST",
    body: JSON.stringify({ refresh_token: "not-a-token" }),
  });
  assert.equal(unknown.status, 400);
  assert.equal((await unknown.json()).error_code, "refresh_token_not_found");
});

Deno.test("auth: signUp creates a confirmed plain user; the same email twice is 422 user_already_exists", async () => {
  const email = `signup-${crypto.randomUUID().slice(0, 8)}@local.test`;
  const { data, error } = await client().auth.signUp({ email, password: "a-good-password" });
  assert.equal(error, null);
  assert.ok(data.session?.access_token);
  assert.equal(data.user?.app_metadata.role, undefined, "sign-up never grants a role");
  const twice = await client().auth.signUp({ email, password: "a-good-password" });
  assert.equal(twice.error?.code, "user_already_exists");
  const weak = await client().auth.signUp({ email: `w${email}`, password: "123" });
  assert.equal(weak.error?.code, "weak_password");
});

Deno.test("auth + review-queue: a reviewer's session reads /health; a plain user's is 403", async () => {
  for (const [login, status] of [[REVIEWER_LOGIN, 200], [DEMO_LOGIN, 403]] as const) {
    const sb = client();
    const { data } = await sb.auth.signInWithPassword({ email: login.email, password: login.password });
    const res = await fetch(`${functionsUrl("review-queue")}/health`, {
      headers: { authorization: `Bearer ${data.session!.access_token}`, apikey: anonKey() },
    });
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body).slice(0, 300));
    if (status === 200) {
      assert.ok(
        body.rules.some((r: { rule: string; threshold: number | null }) => r.rule === "manual_review_queue"),
      );
      assert.ok(Array.isArray(body.hourly) && Array.isArray(body.source_counts));
      assert.ok(Array.isArray(body.alerts.open) && Array.isArray(body.alerts.past));
    }
    await sb.auth.signOut();
  }
  await closeSql();
});
