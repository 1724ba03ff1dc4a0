/**
 * The Claude stand-in through the real @anthropic-ai/sdk: plain and streamed messages, the SDK's own retries
 * on 529, and one case per behaviour, checking what a parser downstream will face. Behaviours are chosen per
 * request (header or prompt marker) with a random seed, so tests never share stand-in state.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { drawMixed, hashSeed } from "../../../local/claude_standin/behavior.ts";
import { ConversationSchema } from "../../../shared/parse/schema.ts";
import { stackEnv, stackTest, standinAdmin } from "../../support/stack.ts";

const MODEL = "claude-sonnet-5-5";
const PROMPT = [
  "Generate a training conversation as JSON.",
  "Persona: Dana Reyes - Anxious Planner",
  "Emotional arc: fear → confidence",
  "Topic: rolling over a 401(k)",
  "Turns: 4",
].join("\n");

function client(opts: { behavior?: string; seed?: string; maxRetries?: number } = {}): Anthropic {
  const headers: Record<string, string> = { "x-standin-seed": opts.seed ?? crypto.randomUUID() };
  if (opts.behavior) headers["x-standin-behavior"] = opts.behavior;
  return new Anthropic({
    apiKey: "sk-ant-local-test",
    baseURL: stackEnv().ANTHROPIC_BASE_URL,
    maxRetries: opts.maxRetries ?? 0,
    defaultHeaders: headers,
  });
}

async function create(behavior: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) {
  return await client({ behavior }).messages.create({
    model: MODEL,
    max_tokens: 4096,
    messages: [{ role: "user", content: PROMPT }],
    ...extra,
  });
}

function textOf(msg: Anthropic.Message): string {
  return msg.content.map((b) => b.type === "text" ? b.text : "").join("");
}

stackTest(
  "stand-in: messages.create answers a schema-valid conversation built from the prompt's scaffolding",
  async () => {
    const msg = await create("clean");
    assert.equal(msg.type, "message");
    assert.equal(msg.model, MODEL, "the model is echoed");
    assert.equal(msg.stop_reason, "end_turn");
    assert.ok(msg.usage.input_tokens > 10 && msg.usage.output_tokens > 50);
    const conv = ConversationSchema.parse(JSON.parse(textOf(msg)));
    assert.equal(conv.conversation_metadata.client_persona, "Dana Reyes - Anxious Planner");
    assert.equal(conv.turns.length, 4);
    assert.equal(conv.turns[0].emotional_context.primary_emotion, "fear");
    assert.equal(conv.turns[2].emotional_context.primary_emotion, "confidence");
    assert.match(conv.turns[0].content, /401\(k\)/);
  },
);

stackTest(
  "stand-in: messages.stream delivers text deltas and a final message equal to the plain answer",
  async () => {
    const seed = crypto.randomUUID();
    const plain = await client({ seed, behavior: "clean" }).messages.create({
      model: MODEL,
      max_tokens: 4096,
      messages: [{ role: "user", content: PROMPT }],
    });
    const deltas: string[] = [];
    const stream = client({ seed, behavior: "clean" }).messages.stream({
      model: MODEL,
      max_tokens: 4096,
      messages: [{ role: "user", content: PROMPT }],
    });
    stream.on("text", (t) => deltas.push(t));
    const final = await stream.finalMessage();
    assert.ok(deltas.length > 5, `only ${deltas.length} deltas`);
    assert.equal(deltas.join(""), textOf(final));
    assert.equal(textOf(final), textOf(plain), "same seed, same conversation");
    assert.equal(final.stop_reason, "end_turn");
    assert.equal(final.usage.output_tokens, plain.usage.output_tokens);
  },
);

stackTest("stand-in: the SDK's own retries get past 529 overloaded (fail_then_succeed)", async () => {
  const seed = crypto.randomUUID();
  const msg = await client({ seed, behavior: "fail_then_succeed:1", maxRetries: 2 }).messages.create({
    model: MODEL,
    max_tokens: 4096,
    messages: [{ role: "user", content: PROMPT }],
  });
  assert.equal(msg.stop_reason, "end_turn");
  const recent = await standinAdmin("requests") as Array<
    { behavior: string; outcome: string; call_index: number }
  >;
  const mine = recent.filter((r) => r.behavior === "fail_then_succeed:1").slice(-2);
  assert.deepEqual(mine.map((r) => r.outcome), ["overloaded", "clean"]);
  await assert.rejects(
    client({ behavior: "overloaded" }).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: "user", content: PROMPT }],
    }),
    (err: unknown) => err instanceof Anthropic.APIError && err.status === 529,
  );
});

stackTest("stand-in: 429 carries retry-after, 500 is an api_error", async () => {
  await assert.rejects(create("rate_limited:7"), (err: unknown) => {
    assert.ok(err instanceof Anthropic.RateLimitError);
    assert.equal(err.headers?.get("retry-after"), "7");
    return true;
  });
  await assert.rejects(
    create("server_error"),
    (err: unknown) => err instanceof Anthropic.InternalServerError,
  );
});

stackTest("stand-in: malformed-text behaviours produce what their names say", async () => {
  const fenced = textOf(await create("fenced"));
  assert.match(fenced, /^```json\n\{/);
  assert.ok(fenced.endsWith("\n```"));

  const prose = textOf(await create("prose_wrapped"));
  assert.ok(!prose.startsWith("{") && prose.includes('\n{\n  "conversation_metadata"'));

  const trailing = textOf(await create("trailing_commas"));
  assert.throws(() => JSON.parse(trailing));
  ConversationSchema.parse(JSON.parse(trailing.replace(/,(\s*[}\]])/g, "$1")));

  const quotes = textOf(await create("unescaped_quotes"));
  assert.throws(() => JSON.parse(quotes));
  assert.match(quotes, /"content": "[^\n]*"[^,\n]+"[^\n]*",?\n/);
});

stackTest(
  "stand-in: truncated stops at max_tokens mid-string; truncated_content is valid JSON missing the last turn",
  async () => {
    const cut = await create("truncated");
    assert.equal(cut.stop_reason, "max_tokens");
    assert.equal(cut.usage.output_tokens, 4096);
    assert.throws(() => JSON.parse(textOf(cut)));

    const short = await create("truncated_content");
    assert.equal(short.stop_reason, "end_turn");
    const doc = JSON.parse(textOf(short));
    assert.equal(doc.turns.at(-1).role, "user", "the final assistant turn is missing");
    assert.ok(doc.turns.at(-1).content.endsWith('"'), "the last content ends on a dangling quote");
    assert.equal(ConversationSchema.safeParse(doc).success, false);

    const capped = await create("clean", { max_tokens: 40 });
    assert.equal(capped.stop_reason, "max_tokens", "any answer longer than max_tokens is cut");
    assert.equal(capped.usage.output_tokens, 40);
  },
);

stackTest("stand-in: refusal and empty answers", async () => {
  const refusal = await create("refusal");
  assert.equal(refusal.stop_reason, "refusal");
  assert.equal(refusal.stop_details?.type, "refusal");
  const empty = await create("empty");
  assert.deepEqual(empty.content, []);
  assert.equal(empty.stop_reason, "end_turn");
});

stackTest(
  "stand-in: tool_use answers with the forced tool's input; structured outputs with compact JSON",
  async () => {
    const tool = await create("clean", {
      tools: [{ name: "emit_conversation", input_schema: { type: "object" } }],
      tool_choice: { type: "tool", name: "emit_conversation" },
    });
    assert.equal(tool.stop_reason, "tool_use");
    const block = tool.content[0];
    assert.equal(block.type, "tool_use");
    if (block.type === "tool_use") {
      assert.equal(block.name, "emit_conversation");
      ConversationSchema.parse(block.input);
    }

    const format = { type: "json_schema" as const, schema: { type: "object" } };
    const structured = await create("clean", { output_config: { format } });
    const text = textOf(structured);
    assert.ok(!text.includes("\n"), "structured output is compact JSON");
    ConversationSchema.parse(JSON.parse(text));

    await assert.rejects(
      create("schema_rejected", { output_config: { format } }),
      (err: unknown) => err instanceof Anthropic.BadRequestError,
    );
    const fallback = await create("schema_rejected");
    ConversationSchema.parse(JSON.parse(textOf(fallback)));
  },
);

stackTest("stand-in: stream_cut drops the stream midway; stream_error sends an SSE error event", async () => {
  const params = { model: MODEL, max_tokens: 4096, messages: [{ role: "user" as const, content: PROMPT }] };
  const cut = client({ behavior: "stream_cut" }).messages.stream(params);
  const seen: string[] = [];
  cut.on("text", (t) => seen.push(t));
  await assert.rejects(cut.finalMessage());
  assert.ok(seen.length > 0, "some content arrived before the cut");

  const errored = client({ behavior: "stream_error" }).messages.stream(params);
  await assert.rejects(errored.finalMessage(), (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.match(String(err.message), /overloaded/i);
    return true;
  });
});

stackTest("stand-in: slow adds latency; a prompt marker overrides the header", async () => {
  const started = Date.now();
  await create("slow:400");
  assert.ok(Date.now() - started >= 400);

  const marked = await client({ behavior: "clean" }).messages.create({
    model: MODEL,
    max_tokens: 4096,
    messages: [{ role: "user", content: `${PROMPT}\n[standin:fenced]` }],
  });
  assert.match(textOf(marked), /^```json/);
});

stackTest("stand-in: mixed is deterministic per seed, and transient draws clear on the retry", async () => {
  const run = crypto.randomUUID();
  const seeds = Array.from({ length: 400 }, (_, i) => `${run}-${i}`);
  // One seed of each kind: a transient failure (529/429/500/cut) and a clean answer.
  const transient = seeds.find((s) =>
    ["overloaded", "rate_limited", "server_error"].includes(drawMixed(hashSeed(s)))
  );
  const clean = seeds.find((s) => drawMixed(hashSeed(s)) === "clean");
  assert.ok(transient && clean);
  // The call counter is kept per (seed, behaviour text): "mixed" and "slow:0+mixed" replay the same sequence.
  const outcomes = async (seed: string, behavior: string) => {
    const c = client({ seed, behavior });
    const results: string[] = [];
    for (let i = 0; i < 2; i++) {
      try {
        const m = await c.messages.create({
          model: MODEL,
          max_tokens: 4096,
          messages: [{ role: "user", content: PROMPT }],
        });
        results.push(`ok:${m.stop_reason}:${textOf(m)}`);
      } catch (err) {
        results.push(`error:${err instanceof Anthropic.APIError ? err.status : "network"}`);
      }
    }
    return results;
  };
  for (const seed of [transient, clean]) {
    const first = await outcomes(seed, "mixed");
    assert.deepEqual(await outcomes(seed, "slow:0+mixed"), first, `seed ${seed} is deterministic`);
    assert.ok(first[1].startsWith("ok:end_turn"), `a retry of seed ${seed} succeeds`);
  }
  assert.ok((await outcomes(transient, "slow:0+mixed+slow:0"))[0].startsWith("error:"));
  assert.ok((await outcomes(clean, "slow:0+mixed+slow:0"))[0].startsWith("ok:end_turn"));
});

stackTest(
  "stand-in: requests without credentials or anthropic-version are refused like the real API",
  async () => {
    const url = `${stackEnv().ANTHROPIC_BASE_URL}/v1/messages`;
    const body = JSON.stringify({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: "user", content: "hi" }],
    });
    const noKey = await fetch(url, { method: "POST", headers: { "anthropic-version": "2023-06-01" }, body });
    assert.equal(noKey.status, 401);
    assert.equal((await noKey.json()).error.type, "authentication_error");
    const viaXApiKey = await fetch(url, {
      method: "POST",
      headers: { "x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body,
    });
    assert.equal(viaXApiKey.status, 200);
    await viaXApiKey.body?.cancel();
    const bad = await fetch(url, {
      method: "POST",
      headers: { authorization: "Bearer k", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: MODEL, messages: [] }),
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.type, "invalid_request_error");
  },
);

stackTest("stand-in: every error carries a request-id header the SDK reads (requestID)", async () => {
  for (const behavior of ["overloaded", "rate_limited", "server_error", "spend_limit"]) {
    await assert.rejects(create(behavior), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError, behavior);
      assert.match(String(err.requestID), /^req_/, `${behavior}: request-id header`);
      assert.equal(
        (err.error as { request_id?: string }).request_id,
        err.requestID,
        "the body's request_id too",
      );
      return true;
    });
  }
});

stackTest("stand-in: overloaded:N sends retry-after N; plain overloaded sends none", async () => {
  await assert.rejects(create("overloaded:4"), (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError && err.status === 529);
    assert.equal(err.headers?.get("retry-after"), "4");
    return true;
  });
  await assert.rejects(create("overloaded"), (err: unknown) => {
    assert.ok(err instanceof Anthropic.APIError && err.status === 529);
    assert.equal(err.headers?.get("retry-after"), null);
    return true;
  });
});

stackTest("stand-in: spend_limit is a 429 without retry-after, with error.details.error_code", async () => {
  await assert.rejects(create("spend_limit"), (err: unknown) => {
    assert.ok(err instanceof Anthropic.RateLimitError);
    assert.equal(err.headers?.get("retry-after"), null);
    const body = err.error as { error?: { type?: string; details?: { error_code?: string } } };
    assert.equal(body.error?.type, "rate_limit_error");
    assert.equal(typeof body.error?.details?.error_code, "string");
    return true;
  });
});

stackTest("stand-in: schema_rejected uses the real API's wording, which names no parameter", async () => {
  const format = { type: "json_schema" as const, schema: { type: "object" } };
  await assert.rejects(create("schema_rejected", { output_config: { format } }), (err: unknown) => {
    assert.ok(err instanceof Anthropic.BadRequestError);
    const message = (err.error as { error?: { message?: string } }).error?.message ?? "";
    assert.equal(message, "For number type, properties maximum, minimum are not supported");
    return true;
  });
});

stackTest(
  "stand-in: thinking sends a signed thinking block before the answer (plain and streamed)",
  async () => {
    const plain = await create("thinking");
    assert.equal(plain.content[0].type, "thinking");
    assert.equal(plain.content[1].type, "text");
    ConversationSchema.parse(JSON.parse(textOf(plain)));
    const streamed = await client({ behavior: "thinking" }).messages.stream({
      model: MODEL,
      max_tokens: 4096,
      messages: [{ role: "user", content: PROMPT }],
    }).finalMessage();
    const block = streamed.content[0];
    assert.equal(block.type, "thinking");
    if (block.type === "thinking") assert.ok(block.signature.length > 0, "signature_delta arrived");
  },
);

stackTest(
  "stand-in + adapter: a stream cut during thinking is retried, never stored as a truncated answer",
  async () => {
    const { anthropicClaudeClient } = await import("../../../shared/adapters/anthropic_claude_client.ts");
    const c = anthropicClaudeClient({
      apiKey: "sk-ant-local-test",
      baseURL: stackEnv().ANTHROPIC_BASE_URL,
      timeoutMs: 10_000,
      maxRetries: 1,
      deadlineMs: 30_000,
      initialBackoffMs: 1,
      standinBehavior: "thinking_cut",
    });
    const r = await c.generate({
      model: MODEL,
      system: "",
      prompt: PROMPT,
      maxTokens: 4096,
      outputSchema: null,
      plainJsonInstructions: "",
      conversationId: crypto.randomUUID(),
    });
    assert.equal(r.ok, false, "no answer arrived, so nothing is stored as one");
    assert.equal(!r.ok && r.failure.attempts, 2, "the cut was retried");
  },
);
