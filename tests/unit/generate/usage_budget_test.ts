/**
 * The budget seam of generate-conversation (shared/generate/usage_budget.ts, handler.ts) without a server:
 * a refusal is a 429 with Retry-After and the limit named, written nothing and called nobody; a granted
 * reservation is settled to the real usage, released in full when no answer came back; the service is exempt;
 * an idempotent retry is never refused. The SQL's own rules are tested against PostgreSQL
 * (supabase/tests/database/120_usage_limits.test.sql, tests/integration/generate/usage_limits_test.ts).
 */
import { serveHandler } from "../../../shared/http/serve.ts";
import { InfraFailure } from "../../../shared/pipeline/failures.ts";
import assert from "node:assert/strict";
import { handleGenerateConversation } from "../../../shared/generate/handler.ts";
import { setLogSink } from "../../../shared/log.ts";
import { meteredClaude, rateLimitedError, settleTokens } from "../../../shared/generate/usage_budget.ts";
import { answer, ARC, harness, PERSONA, TOPIC, USER } from "./_fakes.ts";

setLogSink(() => {});

function b64url(s: string): string {
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const userToken = `${b64url('{"alg":"HS256","typ":"JWT"}')}.${
  b64url(JSON.stringify({ sub: USER, role: "authenticated", aud: "authenticated", exp: 4_000_000_000 }))
}.sig`;
const body = { persona_id: PERSONA, emotional_arc_id: ARC, training_topic_id: TOPIC, tier: "template" };

function post(headers: Record<string, string>, payload: unknown = body): Request {
  return new Request("http://localhost/functions/v1/generate-conversation", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${userToken}`, ...headers },
    body: JSON.stringify(payload),
  });
}

Deno.test("a request over the per-minute limit is a 429 naming the limit, with Retry-After, nothing written, no Claude call", async () => {
  const h = harness();
  h.limits.requestsPerMinute = 1;
  const handler = serveHandler(handleGenerateConversation(h.deps), "generate-conversation");
  assert.equal((await handler(post({}))).status, 201);
  const rowsBefore = h.repo.rows.size;
  h.clock.t = 20_000; // 20 s into the minute: 40 s left
  const res = await handler(post({}));
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "40");
  const json = await res.json();
  assert.equal(json.error.code, "rate_limited");
  assert.equal(json.error.limit, "generate_requests_per_minute");
  assert.equal(json.error.max, 1);
  assert.equal(json.error.reset_at, "2026-11-26T00:01:00.000Z");
  assert.equal(json.error.retry_after_seconds, 40);
  assert.match(json.error.message, /generate_requests_per_minute limit is reached/);
  assert.equal(h.repo.rows.size, rowsBefore);
  assert.equal(h.claude.requests.length, 1);
  assert.equal(h.store.objects.size, 1);
});

Deno.test("the daily token budget refuses a max_tokens that does not fit, and the request unit is not kept", async () => {
  const h = harness();
  h.limits.tokensPerDay = 10_000;
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({}, { ...body, max_tokens: 12_000 }),
  );
  assert.equal(res.status, 429);
  const json = await res.json();
  assert.equal(json.error.limit, "generate_output_tokens_per_day");
  assert.equal(json.error.reset_at, "2026-11-27T00:00:00.000Z");
  assert.equal(h.claude.requests.length, 0);
  assert.equal(h.repo.rows.size, 0);
});

Deno.test("a granted reservation of max_tokens is settled to the output tokens Claude reported", async () => {
  const h = harness();
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    post({}, { ...body, max_tokens: 8000 }),
  );
  assert.equal(res.status, 201);
  // The fake answer used 2000 output tokens: 6000 of the 8000 reserved come back.
  assert.deepEqual(h.limits.calls, ["reserve 8000", "release 6000"]);
  assert.equal(h.limits.tokens, 2000);
  assert.equal(h.limits.requests, 1);
});

Deno.test("a failed Claude call releases the whole reservation", async () => {
  const h = harness();
  h.claude.result = {
    ok: false,
    failure: {
      kind: "failed",
      status: 500,
      errorType: "api_error",
      message: "boom",
      attempts: 1,
      retryAfterMs: null,
      requestId: null,
    },
  };
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(post({}));
  assert.equal(res.status, 502);
  assert.deepEqual(h.limits.calls, ["reserve 24576", "release 24576"]);
  assert.equal(h.limits.tokens, 0);
});

Deno.test("a flow that throws before Claude (unknown scaffolding) releases the whole reservation", async () => {
  const h = harness();
  h.repo.scaffolding = { ...h.repo.scaffolding, persona: null };
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(post({}));
  assert.equal(res.status, 404);
  assert.deepEqual(h.limits.calls, ["reserve 24576", "release 24576"]);
  assert.equal(h.limits.tokens, 0);
});

Deno.test("an idempotent retry of an existing conversation replays even when the user is at the limit", async () => {
  const h = harness();
  h.limits.requestsPerMinute = 1;
  const handler = serveHandler(handleGenerateConversation(h.deps), "generate-conversation");
  const first = await handler(post({ "idempotency-key": "k-1" }));
  assert.equal(first.status, 201);
  const again = await handler(post({ "idempotency-key": "k-1" }));
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal(h.claude.requests.length, 1);
  // A new key is a new request: refused.
  assert.equal((await handler(post({ "idempotency-key": "k-2" }))).status, 429);
});

Deno.test("the service key acting for a user is reserved as the service (exempt by default)", async () => {
  const h = harness();
  h.limits.requestsPerMinute = 0;
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(
    new Request("http://localhost/functions/v1/generate-conversation", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer service-key-for-tests",
        "x-user-id": USER,
      },
      body: JSON.stringify(body),
    }),
  );
  assert.equal(res.status, 201);
  assert.deepEqual(h.limits.calls, ["reserve 24576 service"]);
});

Deno.test("a database outage at the reservation is a 503 to retry, before any row or Claude call", async () => {
  const h = harness();
  // What the Postgres adapter throws for a refused connection (tests/unit/adapters/postgres_sql_test.ts).
  h.limits.reserveGeneration = () => Promise.reject(new InfraFailure("database_unavailable", "down"));
  const res = await serveHandler(handleGenerateConversation(h.deps), "generate-conversation")(post({}));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.code, "upstream_unavailable");
  assert.equal(h.claude.requests.length, 0);
  assert.equal(h.repo.rows.size, 0);
});

Deno.test("rateLimitedError() rounds Retry-After up to whole seconds, at least one", () => {
  const refusal = {
    allowed: false as const,
    limit: "generate_output_tokens_per_day" as const,
    maxAmount: 10_000,
    used: 12_000,
    resetAt: new Date("2026-11-27T00:00:00Z"),
  };
  const soon = rateLimitedError(refusal, new Date("2026-11-26T23:59:58.100Z"));
  assert.equal(soon.code, "rate_limited");
  assert.equal(soon.details?.retry_after_seconds, 2);
  assert.equal(soon.details?.requested_total, 12_000);
  assert.match(soon.message, /10000 output tokens per day \(max_tokens is reserved until Claude answers\)/);
  assert.equal(rateLimitedError(refusal, new Date("2026-11-27T00:00:05Z")).details?.retry_after_seconds, 1);
});

Deno.test("meteredClaude() counts the reported output tokens, and max_tokens for an answer without usage", async () => {
  const h = harness();
  const metered = meteredClaude(h.claude);
  const request = {
    model: "claude-sonnet-4-5",
    system: "",
    prompt: "",
    maxTokens: 5000,
    outputSchema: null,
    plainJsonInstructions: "",
  };
  await metered.client.generate(request);
  assert.equal(metered.outputTokens(), 2000);
  h.claude.result = {
    ok: true,
    answer: { ...answer(), usage: { ...answer().usage, output_tokens: null } },
  };
  await metered.client.generate(request);
  assert.equal(metered.outputTokens(), 7000, "a cut stream without usage counts as all of max_tokens");
});

Deno.test("settleTokens() releases only what was charged and not used, and never throws", async () => {
  const h = harness();
  const charged = { allowed: true as const, tokensCharged: true, tokensWindowStart: h.limits.day };
  await settleTokens(h.limits, charged, { userId: USER, reserved: 8000, used: 8000 });
  await settleTokens(h.limits, { ...charged, tokensCharged: false }, {
    userId: USER,
    reserved: 8000,
    used: 0,
  });
  assert.deepEqual(h.limits.calls, [], "nothing to give back");
  h.limits.releaseTokens = () => Promise.reject(new Error("database down"));
  await settleTokens(h.limits, charged, { userId: USER, reserved: 8000, used: 1000 });
});
