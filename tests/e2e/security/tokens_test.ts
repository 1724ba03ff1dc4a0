/**
 * Bad credentials on every endpoint of every function (basejump's test-unauthorized pattern: every action, the
 * same status and body). User-facing functions (verify_jwt on) answer 401: a token the platform cannot verify
 * gets the platform's `{"code":401,"message":…}`, a valid JWT without a user (the anon key, the publishable key,
 * role anon) gets our `{"error":{"code":"unauthorized",…}}`. Internal functions (verify_jwt off, service key
 * checked in code) answer 401 without credentials and 403 with anything but the service key — a user's valid
 * token included. Nothing is written either way.
 */
import assert from "node:assert/strict";
import { sql, stackTest } from "../../support/stack.ts";
import { type Answer, BAD_TOKENS, bearer, createActors, jsonOf, Recorder } from "./_actors.ts";

interface Route {
  fn: string;
  method: string;
  tail: (item: string) => string;
  body?: unknown;
}

const SEED_BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

/** Every route of the user-facing functions, each with a request that would succeed for a signed-in owner. */
const USER_ROUTES: readonly Route[] = [
  { fn: "generate-conversation", method: "POST", tail: () => "", body: SEED_BODY },
  { fn: "review-queue", method: "GET", tail: () => "" },
  { fn: "review-queue", method: "GET", tail: (id) => `/${id}` },
  { fn: "review-queue", method: "POST", tail: (id) => `/${id}/retry`, body: {} },
  { fn: "review-queue", method: "POST", tail: (id) => `/${id}/resolve`, body: { conversation: {} } },
  { fn: "review-queue", method: "POST", tail: (id) => `/${id}/dismiss`, body: { reason: "test" } },
  { fn: "review-queue", method: "POST", tail: () => "/retry-all", body: { dry_run: true } },
];

/** Every route of the internal functions, each with a request the service role may make. */
const INTERNAL_ROUTES: readonly Route[] = [
  {
    fn: "parse-conversation",
    method: "POST",
    tail: () => "",
    body: { conversation_id: crypto.randomUUID() },
  },
  { fn: "storage-health-monitor", method: "POST", tail: () => "", body: { dry_run: true } },
  { fn: "storage-health-monitor", method: "GET", tail: () => "" },
  { fn: "raw-retention", method: "POST", tail: () => "", body: { dry_run: true } },
  { fn: "raw-retention", method: "GET", tail: () => "" },
  { fn: "export-dataset", method: "POST", tail: () => "", body: { part: "manifest" } },
];

function call(
  rec: Recorder,
  r: Route,
  item: string,
  headers: Record<string, string>,
  what: string,
): Promise<Answer> {
  const init: RequestInit = { method: r.method, headers: { ...headers } };
  if (r.body !== undefined) {
    init.body = JSON.stringify(r.body);
    (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  return rec.fn(what, r.fn, r.tail(item), init);
}

function label(r: Route): string {
  return `${r.method} ${r.fn}${r.tail("{id}")}`;
}

type Shape = "platform_401" | "unauthorized" | "forbidden";

function shapeOf(a: Answer): Shape | string {
  const body = jsonOf(a) as Record<string, unknown> | null;
  const error = body?.error as Record<string, unknown> | undefined;
  if (a.status === 401 && body?.code === 401 && typeof body.message === "string") return "platform_401";
  if (a.status === 401 && error?.code === "unauthorized" && typeof error.message === "string") {
    return "unauthorized";
  }
  if (a.status === 403 && error?.code === "forbidden" && typeof error.message === "string") {
    return "forbidden";
  }
  return `${a.status} ${a.text.slice(0, 120)}`;
}

async function setUp() {
  const actors = await createActors();
  const item = crypto.randomUUID();
  await sql()`
    insert into public.conversations (conversation_id, user_id, processing_status, requires_manual_review,
      parse_attempts, parse_error_message)
    values (${item}, ${actors.a.id}, 'parse_failed', true, 1, 'invalid_json: security suite fixture')`;
  return { actors, item };
}

async function fingerprint(userId: string): Promise<string> {
  const [row] = await sql()<{ v: string }[]>`
    select count(*) || ':' || coalesce(md5(string_agg(row_to_json(c)::text, '|' order by conversation_id)), '') as v
      from public.conversations c where user_id = ${userId}`;
  return row.v;
}

stackTest(
  "tokens: every bad credential on every user-facing route answers 401 JSON and changes nothing",
  async () => {
    const rec = new Recorder();
    const { actors, item } = await setUp();
    const before = await fingerprint(actors.a.id);
    const wrong: string[] = [];
    for (const bad of BAD_TOKENS) {
      const headers = await bad.headers(actors.a);
      for (const r of USER_ROUTES) {
        const got = shapeOf(await call(rec, r, item, headers, `${bad.name} ${label(r)}`));
        const want: Shape = bad.failsVerifyJwt ? "platform_401" : "unauthorized";
        if (got !== want) wrong.push(`${bad.name} on ${label(r)}: got ${got}, want ${want}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.equal(await fingerprint(actors.a.id), before, "A's conversations are untouched");
    assert.deepEqual(rec.leaks(), []);
  },
);

stackTest(
  "tokens: internal functions answer 401 without credentials and 403 to anything but the service key",
  async () => {
    const rec = new Recorder();
    const { actors, item } = await setUp();
    const candidates = [
      ...BAD_TOKENS.map((b) => ({ name: b.name, headers: () => b.headers(actors.a) })),
      { name: "A's valid user token", headers: () => Promise.resolve(bearer(actors.a.token)) },
    ];
    const wrong: string[] = [];
    for (const c of candidates) {
      const headers = await c.headers();
      for (const r of INTERNAL_ROUTES) {
        const got = shapeOf(await call(rec, r, item, headers, `${c.name} ${label(r)}`));
        const want: Shape = Object.keys(headers).length === 0 ? "unauthorized" : "forbidden";
        if (got !== want) wrong.push(`${c.name} on ${label(r)}: got ${got}, want ${want}`);
      }
    }
    assert.deepEqual(wrong, []);
    assert.deepEqual(rec.leaks(), []);
  },
);

stackTest("tokens: a CORS preflight passes without credentials but carries no data", async () => {
  const rec = new Recorder();
  for (const r of [...USER_ROUTES, ...INTERNAL_ROUTES]) {
    const a = await rec.fn(`OPTIONS ${label(r)}`, r.fn, r.tail(crypto.randomUUID()), { method: "OPTIONS" });
    assert.ok(a.status === 204 || a.status === 200, `${label(r)}: ${a.status}`);
    assert.equal(a.text, "", `${label(r)} answers a preflight with no body`);
  }
  assert.deepEqual(rec.leaks(), []);
});
