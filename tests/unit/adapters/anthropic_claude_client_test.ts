/**
 * The Claude adapter against a scripted fetch: the real SDK parses real SSE bytes and error responses, so
 * retries, the structured-output fallback, truncation and timeouts are tested through the same code paths the
 * API exercises. Sleeps are recorded, never slept.
 */
import assert from "node:assert/strict";
import {
  anthropicClaudeClient,
  type ClaudeAdapterOptions,
  resetStructuredOutputMemory,
  retryAfterMs,
} from "../../../shared/adapters/anthropic_claude_client.ts";
import type { ClaudeRequest } from "../../../shared/generate/claude_client.ts";
import { setLogSink } from "../../../shared/log.ts";

setLogSink(() => {});

type Step =
  | { kind: "sse"; events: Array<Record<string, unknown>>; cut?: "close" | "error"; hang?: boolean }
  | { kind: "error"; status: number; body: unknown; headers?: Record<string, string> };

interface Seen {
  url: string;
  headers: Headers;
  body: Record<string, unknown>;
}

function scriptedFetch(steps: Step[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const f = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    seen.push({
      url,
      headers: new Headers(init?.headers),
      body: JSON.parse(String(init?.body ?? "{}")),
    });
    const step = steps.shift();
    if (!step) throw new Error("no scripted response left");
    if (step.kind === "error") {
      return Promise.resolve(
        new Response(JSON.stringify(step.body), {
          status: step.status,
          headers: { "content-type": "application/json", ...(step.headers ?? {}) },
        }),
      );
    }
    const enc = new TextEncoder();
    // Pull-based, so queued events reach the reader before a cut: controller.error() would discard them.
    const chunks = step.events.map((e) =>
      enc.encode(`event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`)
    );
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) return controller.enqueue(next);
        if (step.hang) {
          return new Promise<void>((resolve) => {
            init?.signal?.addEventListener("abort", () => {
              controller.error(new DOMException("aborted", "AbortError"));
              resolve();
            });
          });
        }
        if (step.cut === "error") controller.error(new TypeError("terminated"));
        else controller.close();
      },
    });
    return Promise.resolve(
      new Response(stream, {
        status: 200,
        headers: { "content-type": "text/event-stream", "request-id": "req_x" },
      }),
    );
  };
  return { fetch: f as typeof fetch, seen };
}

const start = {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 900, output_tokens: 1 },
  },
};
const blockStart = { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } };
const delta = (text: string) => ({
  type: "content_block_delta",
  index: 0,
  delta: { type: "text_delta", text },
});
const finish = [
  { type: "content_block_stop", index: 0 },
  {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 1500 },
  },
  { type: "message_stop" },
];
const clean: Step = {
  kind: "sse",
  events: [start, blockStart, delta('{"conversation'), delta('_metadata":{}}'), ...finish],
};
const apiError = (status: number, type: string, message: string, headers?: Record<string, string>): Step => ({
  kind: "error",
  status,
  body: { type: "error", error: { type, message } },
  headers,
});

const request: ClaudeRequest = {
  model: "claude-sonnet-4-5",
  system: "system prompt",
  prompt: "write a conversation",
  maxTokens: 24576,
  outputSchema: { type: "object" },
  plainJsonInstructions: "PLAIN JSON PLEASE",
  userId: "5f0c2b9e-7a4d-4c1e-9a57-2d3c4b5a6f70",
  conversationId: "c1",
};

function client(steps: Step[], opts: Partial<ClaudeAdapterOptions> = {}) {
  resetStructuredOutputMemory();
  const { fetch, seen } = scriptedFetch(steps);
  const sleeps: number[] = [];
  let t = 0;
  const c = anthropicClaudeClient({
    apiKey: "sk-test",
    baseURL: "http://claude.test",
    timeoutMs: 10_000,
    maxRetries: 3,
    deadlineMs: 300_000,
    fetch,
    sleep: (ms) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    now: () => t,
    random: () => 0,
    ...opts,
  });
  return { c, seen, sleeps };
}

Deno.test("anthropicClaudeClient streams, asks for the schema via output_config and returns the assembled body", async () => {
  const { c, seen } = client([clean], { standinBehavior: "clean" });
  const r = await c.generate(request);
  assert.ok(r.ok);
  const a = r.answer;
  assert.equal(a.truncated, false);
  assert.equal(a.structuredOutput, true);
  assert.equal(a.attempts, 1);
  assert.equal(a.stopReason, "end_turn");
  assert.equal(a.requestId, "req_x");
  assert.deepEqual(a.usage, {
    input_tokens: 900,
    output_tokens: 1500,
    cache_creation_input_tokens: null,
    cache_read_input_tokens: null,
  });
  assert.equal(a.body, JSON.stringify(a.message));
  assert.deepEqual(JSON.parse(a.body).content, [{ type: "text", text: '{"conversation_metadata":{}}' }]);
  const sent = seen[0];
  assert.equal(sent.url, "http://claude.test/v1/messages");
  assert.equal(sent.body.stream, true);
  assert.deepEqual(sent.body.output_config, { format: { type: "json_schema", schema: { type: "object" } } });
  assert.deepEqual(sent.body.metadata, { user_id: request.userId });
  assert.equal(sent.body.system, "system prompt");
  assert.equal("temperature" in sent.body, false, "API 2026-10-21 refuses sampling parameters");
  assert.equal(sent.headers.get("x-standin-behavior"), "clean");
  assert.equal(sent.headers.get("authorization"), "Bearer sk-test");
});

Deno.test("anthropicClaudeClient sends the conversation id as the stand-in seed only when asked", async () => {
  const withSeed = client([clean], { standinSeed: true });
  await withSeed.c.generate(request);
  assert.equal(withSeed.seen[0].headers.get("x-standin-seed"), "c1");
  const without = client([clean]);
  await without.c.generate(request);
  assert.equal(without.seen[0].headers.get("x-standin-seed"), null);
});

Deno.test("anthropicClaudeClient retries a 529 after the retry-after the API asked for", async () => {
  const { c, sleeps } = client([
    apiError(529, "overloaded_error", "Overloaded", { "retry-after": "2" }),
    clean,
  ]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(r.answer.attempts, 2);
  assert.deepEqual(sleeps, [2000]);
});

Deno.test("anthropicClaudeClient honours retry-after-ms on a 429", async () => {
  const { c, sleeps } = client([
    apiError(429, "rate_limit_error", "slow down", { "retry-after-ms": "150" }),
    clean,
  ]);
  assert.ok((await c.generate(request)).ok);
  assert.deepEqual(sleeps, [150]);
});

Deno.test("anthropicClaudeClient backs off exponentially without retry-after, then reports failed", async () => {
  const boom = apiError(500, "api_error", "Internal server error");
  const { c, sleeps, seen } = client([boom, boom, boom], { maxRetries: 2 });
  const r = await c.generate(request);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(seen.length, 3);
  assert.deepEqual(sleeps, [500, 1000]);
  assert.equal(r.failure.kind, "failed");
  assert.equal(r.failure.status, 500);
  assert.equal(r.failure.attempts, 3);
});

Deno.test("anthropicClaudeClient reports overload after the retries as unavailable", async () => {
  const over = apiError(529, "overloaded_error", "Overloaded");
  const { c } = client([over, over, over, over]);
  const r = await c.generate(request);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.failure.kind, "unavailable");
  assert.equal(r.failure.status, 529);
  assert.equal(r.failure.errorType, "overloaded_error");
  assert.equal(r.failure.attempts, 4);
});

Deno.test("anthropicClaudeClient does not retry a 401 or an ordinary 400", async () => {
  for (
    const step of [
      apiError(401, "authentication_error", "invalid x-api-key"),
      apiError(400, "invalid_request_error", "max_tokens: too large"),
    ]
  ) {
    const { c, seen } = client([step, clean]);
    const r = await c.generate(request);
    assert.equal(r.ok, false);
    assert.equal(seen.length, 1);
  }
});

Deno.test("anthropicClaudeClient obeys x-should-retry: false", async () => {
  const { c, seen } = client([
    apiError(529, "overloaded_error", "Overloaded", { "x-should-retry": "false" }),
    clean,
  ]);
  assert.equal((await c.generate(request)).ok, false);
  assert.equal(seen.length, 1);
});

Deno.test("anthropicClaudeClient falls back to plain JSON instructions when the schema is rejected, and remembers", async () => {
  const rejected = apiError(
    400,
    "invalid_request_error",
    "output_config.format.schema: For number type, properties maximum, minimum are not supported",
  );
  const { c, seen, sleeps } = client([rejected, clean, clean], { maxRetries: 0 });
  const r = await c.generate(request);
  assert.ok(r.ok, "the fallback does not use up a retry");
  assert.equal(r.answer.structuredOutput, false);
  assert.equal(r.answer.attempts, 2);
  assert.deepEqual(sleeps, []);
  assert.equal("output_config" in seen[1].body, false);
  const content = (seen[1].body.messages as Array<{ content: string }>)[0].content;
  assert.ok(content.endsWith("PLAIN JSON PLEASE"));
  const again = await c.generate(request);
  assert.ok(again.ok);
  assert.equal("output_config" in seen[2].body, false, "the model's rejection is remembered");
});

Deno.test("anthropicClaudeClient keeps what arrived when the stream breaks after content began", async () => {
  const { c, seen } = client([{
    kind: "sse",
    events: [start, blockStart, delta('{"turns":[{"content":"I feel')],
    cut: "error",
  }]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(seen.length, 1, "never retried: the content would be lost");
  assert.equal(r.answer.truncated, true);
  assert.equal(r.answer.stopReason, null);
  assert.deepEqual(JSON.parse(r.answer.body).content, [{
    type: "text",
    text: '{"turns":[{"content":"I feel',
  }]);
});

Deno.test("anthropicClaudeClient flags a stream that closes without message_stop as stream_cut", async () => {
  const { c } = client([{ kind: "sse", events: [start, blockStart, delta("{")], cut: "close" }]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(r.answer.truncation, "stream_cut");
});

Deno.test("anthropicClaudeClient retries a stream that broke before any content", async () => {
  const { c, seen } = client([{ kind: "sse", events: [start, blockStart], cut: "error" }, clean]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(r.answer.truncated, false);
  assert.equal(seen.length, 2);
});

Deno.test("anthropicClaudeClient retries an SSE overloaded error that came before content", async () => {
  const errorEvent = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
  const { c, seen } = client([{ kind: "sse", events: [start, errorEvent] }, clean]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(seen.length, 2);
});

Deno.test("anthropicClaudeClient stops a hanging stream at the timeout and keeps the content", async () => {
  const { c } = client([{ kind: "sse", events: [start, blockStart, delta('{"turns":')], hang: true }], {
    timeoutMs: 50,
  });
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(r.answer.truncated, true);
  assert.equal(r.answer.truncation, "timeout");
});

Deno.test("anthropicClaudeClient gives up at once when retry-after exceeds the deadline", async () => {
  const { c, seen, sleeps } = client([
    apiError(429, "rate_limit_error", "slow down", { "retry-after": "600" }),
    clean,
  ], {
    deadlineMs: 60_000,
  });
  const r = await c.generate(request);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(seen.length, 1);
  assert.deepEqual(sleeps, []);
  assert.equal(r.failure.kind, "unavailable");
  assert.equal(r.failure.retryAfterMs, 600_000);
});

Deno.test("retryAfterMs() reads milliseconds, seconds and HTTP dates", () => {
  assert.equal(retryAfterMs(new Headers({ "retry-after-ms": "250.5" })), 250.5);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "3" })), 3000);
  const now = Date.parse("2026-11-26T00:00:00Z");
  assert.equal(retryAfterMs(new Headers({ "retry-after": "Thu, 26 Nov 2026 00:00:05 GMT" }), now), 5000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": "soon" })), null);
  assert.equal(retryAfterMs(new Headers()), null);
});

Deno.test("anthropicClaudeClient falls back on a schema rejection by type and parameter, whatever the wording", async () => {
  // The real API's wording names no parameter; the stand-in's used to say "schema", which this must not need.
  const { c, seen } = client([
    apiError(400, "invalid_request_error", "For number type, properties maximum, minimum are not supported"),
    clean,
  ], { maxRetries: 0 });
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(r.answer.structuredOutput, false);
  assert.equal("output_config" in seen[1].body, false);
});

Deno.test("anthropicClaudeClient does not remember a model whose plain retry was refused too", async () => {
  const odd = apiError(400, "invalid_request_error", "Something about the request is not supported");
  const { c, seen } = client([odd, odd, clean], { maxRetries: 0 });
  const r = await c.generate(request);
  assert.equal(r.ok, false, "a 400 that was not about the schema fails");
  assert.equal(seen.length, 2, "one plain retry, then stop");
  assert.ok((await c.generate(request)).ok);
  assert.ok("output_config" in seen[2].body, "structured outputs are still used for this model");
});

Deno.test("anthropicClaudeClient does not retry the spend-limit 429 (no retry-after, error.details.error_code)", async () => {
  const { c, seen } = client([{
    kind: "error",
    status: 429,
    body: {
      type: "error",
      error: {
        type: "rate_limit_error",
        message: "You have reached your specified API usage limits.",
        details: { error_code: "spend_limit_reached" },
      },
    },
  }, clean]);
  const r = await c.generate(request);
  assert.equal(r.ok, false);
  assert.equal(seen.length, 1, "not retried");
  assert.equal(!r.ok && r.failure.kind, "unavailable");
  assert.match(!r.ok ? r.failure.message : "", /spend_limit_reached/);
});

Deno.test("anthropicClaudeClient still retries an ordinary 429 with retry-after", async () => {
  const { c, seen } = client([
    apiError(429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit", {
      "retry-after": "2",
    }),
    clean,
  ]);
  assert.ok((await c.generate(request)).ok);
  assert.equal(seen.length, 2);
});

Deno.test("anthropicClaudeClient retries a stream that broke while the model was still thinking", async () => {
  const thinkingStart = {
    type: "content_block_start",
    index: 0,
    content_block: { type: "thinking", thinking: "", signature: "" },
  };
  const thinkingDelta = {
    type: "content_block_delta",
    index: 0,
    delta: { type: "thinking_delta", thinking: "The persona starts anxious, so" },
  };
  const { c, seen } = client([
    { kind: "sse", events: [start, thinkingStart, thinkingDelta], cut: "error" },
    clean,
  ]);
  const r = await c.generate(request);
  assert.ok(r.ok);
  assert.equal(seen.length, 2, "thinking is not the answer: nothing was lost, so the call is retried");
  assert.equal(r.answer.truncated, false);
});

Deno.test("anthropicClaudeClient stops reading at message_stop: nothing after it is awaited", async () => {
  // A body that goes on after message_stop (one more event, then silence): the answer is complete at
  // message_stop, and waiting for the body's end would keep it in memory for one more network turn (here, until
  // the timeout). The API sends nothing after message_stop; the extra event only shows whether it was read.
  const after = { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: {} };
  const { c } = client([{
    kind: "sse",
    events: [...(clean.kind === "sse" ? clean.events : []), after],
    hang: true,
  }]);
  let progressCalls = 0;
  const r = await c.generate({ ...request, onProgress: () => void progressCalls++ });
  assert.ok(r.ok);
  assert.equal(r.answer.truncation, null);
  assert.equal(r.answer.stopReason, "end_turn");
  assert.equal(progressCalls, 7, "one call per event up to message_stop, none after it");
});
