/**
 * The HTTP contract of generate-conversation without a server: statuses, the error body, Server-Timing,
 * Idempotent-Replayed, Retry-After, Prefer, and the table of malformed requests (no row written for any).
 */
import { serveHandler } from "../../../shared/http/serve.ts";
import assert from "node:assert/strict";
import { handleGenerateConversation, parseWaitBudget } from "../../../shared/generate/handler.ts";
import { parseServerTiming } from "../../../shared/http/server_timing.ts";
import { setLogSink } from "../../../shared/log.ts";
import { malformedRequests } from "../../fixtures/generate/malformed_requests.ts";
import { ARC, harness, OVERLOADED, PERSONA, TOPIC, USER } from "./_fakes.ts";

setLogSink(() => {});

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
function jwt(claims: Record<string, unknown>): string {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.sig`;
}

const SERVICE_KEY = "service-key-for-tests";
const userToken = jwt({ sub: USER, role: "authenticated", aud: "authenticated", exp: 4_000_000_000 });
const body = { persona_id: PERSONA, emotional_arc_id: ARC, training_topic_id: TOPIC, tier: "template" };

function post(headers: Record<string, string>, payload: unknown = body): Request {
  return new Request("http://localhost/functions/v1/generate-conversation", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(payload),
  });
}

Deno.test("handleGenerateConversation() answers 201 with the conversation and Server-Timing phases", async () => {
  const h = harness();
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${userToken}` }),
  );
  assert.equal(res.status, 201);
  const json = await res.json();
  assert.equal(json.processing_status, "completed");
  assert.equal(json.raw_response_path, `raw/${USER}/${json.conversation_id}.json`);
  assert.equal(json.parse_method_used, "direct");
  assert.equal(json.turn_count, 8);
  const timing = parseServerTiming(res.headers.get("server-timing"));
  for (const phase of ["claude", "raw_store", "db", "parse_wait", "total"]) {
    assert.ok(phase in timing, `Server-Timing has ${phase}`);
  }
});

Deno.test("handleGenerateConversation() lets the service key act for an existing user named in x-user-id", async () => {
  const h = harness();
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${SERVICE_KEY}`, "x-user-id": USER }),
  );
  assert.equal(res.status, 201);
  const json = await res.json();
  assert.equal(h.repo.rows.get(json.conversation_id)?.user_id, USER);
});

Deno.test("handleGenerateConversation() replays with 200 and Idempotent-Replayed, and 409s a changed body", async () => {
  const h = harness();
  const handler = serveHandler(handleGenerateConversation(h.deps), "generate-conversation");
  const headers = { authorization: `Bearer ${userToken}`, "idempotency-key": "abc-123" };
  const first = await handler(post(headers));
  const firstJson = await first.json();
  const second = await handler(post(headers));
  assert.equal(second.status, 200);
  assert.equal(second.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(await second.json(), firstJson);
  const changed = await handler(post(headers, { ...body, tier: "edge_case" }));
  assert.equal(changed.status, 409);
  const err = await changed.json();
  assert.equal(err.error.code, "conflict");
  assert.equal(err.error.conversation_id, firstJson.conversation_id);
});

Deno.test("handleGenerateConversation() answers 503 with the conversation id and Retry-After when Claude is overloaded", async () => {
  const h = harness();
  h.claude.result = { ok: false, failure: { ...OVERLOADED, retryAfterMs: 1500 } };
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${userToken}` }),
  );
  assert.equal(res.status, 503);
  assert.equal(res.headers.get("retry-after"), "2");
  const json = await res.json();
  assert.equal(json.error.code, "upstream_unavailable");
  assert.match(json.error.message, /after 4 attempt\(s\) \(529 overloaded_error\)/);
  assert.equal(h.repo.rows.get(json.error.conversation_id)?.processing_status, "generation_failed");
  assert.ok(res.headers.get("server-timing")?.includes("claude;dur="));
});

Deno.test("handleGenerateConversation() answers 502 when Claude fails for another reason", async () => {
  const h = harness();
  h.claude.result = {
    ok: false,
    failure: {
      kind: "failed",
      status: 500,
      errorType: "api_error",
      message: "boom",
      attempts: 4,
      retryAfterMs: null,
      requestId: null,
    },
  };
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${userToken}` }),
  );
  assert.equal(res.status, 502);
  assert.equal((await res.json()).error.code, "upstream_failed");
  assert.equal(res.headers.get("retry-after"), null);
});

Deno.test("handleGenerateConversation() answers 503 with the id when Storage and the database both fail", async () => {
  const h = harness();
  h.store.always = { ok: false, kind: "unavailable", message: "down" };
  h.repo.down.add("writeAhead");
  h.repo.down.add("spoolRaw");
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${userToken}` }),
  );
  assert.equal(res.status, 503);
  const json = await res.json();
  assert.match(json.error.conversation_id, /^[0-9a-f-]{36}$/);
  assert.match(json.error.message, /function logs/);
});

Deno.test("handleGenerateConversation() skips the parse wait with Prefer: respond-async", async () => {
  const h = harness();
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({ authorization: `Bearer ${userToken}`, prefer: "respond-async" }),
  );
  assert.equal(res.status, 201);
  assert.equal((await res.json()).processing_status, "raw_stored");
});

Deno.test("parseWaitBudget() honours respond-async and wait=N, never beyond the budget", () => {
  assert.equal(parseWaitBudget(null, 3000), 3000);
  assert.equal(parseWaitBudget("respond-async", 3000), 0);
  assert.equal(parseWaitBudget("wait=1", 3000), 1000);
  assert.equal(parseWaitBudget("return=minimal, wait=0.5", 3000), 500);
  assert.equal(parseWaitBudget("wait=60", 3000), 3000);
  assert.equal(parseWaitBudget("handling=lenient", 3000), 3000);
});

const cases = malformedRequests({
  userToken,
  anonKey: jwt({ role: "anon", iss: "supabase-demo" }),
  serviceKey: SERVICE_KEY,
  expiredUserToken: jwt({ sub: USER, role: "authenticated", aud: "authenticated", exp: 1 }),
  userId: USER,
  personaId: PERSONA,
  arcId: ARC,
  topicId: TOPIC,
});

Deno.test("the malformed-request table has at least 30 cases", () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
});

for (const c of cases) {
  Deno.test(`handleGenerateConversation() answers ${c.status} ${c.code} to ${c.name}, writing nothing`, async () => {
    const h = harness();
    h.repo.users = new Set([USER]);
    if (c.code === "not_found" && c.name.includes("persona")) {
      h.repo.scaffolding = { ...h.repo.scaffolding, persona: null };
    }
    const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
      new Request("http://localhost/functions/v1/generate-conversation", {
        method: c.method,
        headers: c.headers,
        body: c.body as BodyInit | null,
      }),
    );
    assert.equal(res.status, c.status);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const json = await res.json();
    assert.equal(json.error.code, c.code);
    assert.equal(typeof json.error.message, "string");
    assert.equal(h.repo.rows.size, 0);
    assert.equal(h.claude.requests.length, 0);
  });
}
