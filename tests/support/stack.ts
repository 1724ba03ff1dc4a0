/**
 * Helpers for tests that run against the local stack (or any Supabase stack with the same keys):
 *
 *   stackEnv()                 the stack's URLs and keys (<stateDir>/stack.env.json, zod-validated)
 *   anonKey() / serviceKey()   the legacy JWT keys
 *   mintUserToken(userId, o)   an HS256 access token for a user (expiresIn / secret / role overridable)
 *   createTestUser()           a fresh auth.users row (random uuid) and its token
 *   sql()                      one shared postgres.js client on SUPABASE_DB_URL (prepare: false)
 *   serviceClient()            supabase-js as the service role, against the gateway
 *   userClient(token)          supabase-js acting as a user (Authorization: Bearer <token>)
 *   functionsUrl(name)         <SUPABASE_URL>/functions/v1/<name>
 *   standinAdmin(path, init)   fetch on the Claude stand-in's /__admin/ endpoints
 *   stackTest(name, fn)        Deno.test with the resource/op sanitizers off (the shared pool outlives a test)
 *
 * The stack must be running: `deno task stack:start` (the test runner starts it). Test-only functions
 * (tests/fixtures/functions) are served only when it was started with LOCAL_EXTRA_FUNCTIONS_DIR set; use
 * `requireTestFunctions()` in tests that call them.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import postgres from "postgres";
import { userToken } from "../../local/keys.ts";
import { readStackEnv, type StackEnv } from "../../local/stack_env.ts";

let cachedEnv: StackEnv | null = null;

/** The stack's settings (local/stack_env.ts `readStackEnv`), read once per test process. */
export function stackEnv(): StackEnv {
  cachedEnv ??= readStackEnv();
  return cachedEnv;
}

/** The stack's legacy anon JWT. */
export function anonKey(): string {
  return stackEnv().SUPABASE_ANON_KEY;
}

/** The stack's legacy service_role JWT (bypasses RLS: only for setup and checks). */
export function serviceKey(): string {
  return stackEnv().SUPABASE_SERVICE_ROLE_KEY;
}

/** `<SUPABASE_URL>/functions/v1/<name>`. */
export function functionsUrl(name: string): string {
  return `${stackEnv().SUPABASE_URL}/functions/v1/${name}`;
}

/** An HS256 access token for the user, signed with the stack's secret unless `secret` says otherwise. */
export function mintUserToken(
  userId: string,
  opts: { expiresIn?: number; secret?: string; role?: string } = {},
): Promise<string> {
  return userToken(userId, {
    expiresIn: opts.expiresIn,
    secret: opts.secret ?? stackEnv().SUPABASE_JWT_SECRET,
    role: opts.role,
  });
}

let client: postgres.Sql | null = null;

/** One pool for the whole test process (closed when the process exits). */
export function sql(): postgres.Sql {
  client ??= postgres(stackEnv().SUPABASE_DB_URL, {
    prepare: false,
    max: 4,
    idle_timeout: 5,
    onnotice: () => {},
  });
  return client;
}

/** Ends the shared pool (a test module's last step, so Deno does not wait on idle connections). */
export async function closeSql(): Promise<void> {
  if (client) {
    const c = client;
    client = null;
    await c.end({ timeout: 2 });
  }
}

/** A fresh auth.users row (random uuid, confirmed email) and an access token for it: no test shares a user. */
export async function createTestUser(): Promise<{ id: string; email: string; token: string }> {
  const id = crypto.randomUUID();
  const email = `${id}@test.local`;
  await sql()`
    insert into auth.users (id, email, aud, role, email_confirmed_at)
    values (${id}, ${email}, 'authenticated', 'authenticated', now())`;
  return { id, email, token: await mintUserToken(id) };
}

const clientOptions = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
} as const;

/** supabase-js as the service role, against the gateway. */
export function serviceClient(): SupabaseClient {
  return createClient(stackEnv().SUPABASE_URL, serviceKey(), clientOptions);
}

/** supabase-js acting as the user whose access token is given (the anon key plus Authorization). */
export function userClient(token: string): SupabaseClient {
  return createClient(stackEnv().SUPABASE_URL, anonKey(), {
    ...clientOptions,
    global: { headers: { Authorization: `Bearer ${token}` } },
  });
}

/** fetch on the Claude stand-in's /__admin/ endpoints; throws with the status and body when not ok. */
export async function standinAdmin(path: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(`${stackEnv().ANTHROPIC_BASE_URL}/__admin/${path.replace(/^\//, "")}`, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`stand-in admin ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Fails with a clear message when the stack was started without the test-only functions. */
export async function requireTestFunctions(): Promise<void> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/_internal/health`);
  const body = await res.json() as { extra_functions_dir?: string | null };
  if (!body.extra_functions_dir) {
    throw new Error(
      "The stack runs without the test functions: restart it with " +
        "LOCAL_EXTRA_FUNCTIONS_DIR=tests/fixtures/functions deno task stack:start (deno task test does this)",
    );
  }
}

/** Deno.test with the resource/op sanitizers off: the shared pool outlives a single test. */
export function stackTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, fn, sanitizeResources: false, sanitizeOps: false });
}

/** Polls `check` until it returns a value (not null/undefined) or the timeout passes. */
export async function eventually<T>(
  check: () => Promise<T | null | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (true) {
    const v = await check();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${opts.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
