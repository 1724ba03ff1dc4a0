/**
 * The stand-in's Message Batches API (local/claude_standin/batches.ts) driven through the real @anthropic-ai/sdk
 * client exactly as the batch collector will call it (`client.messages.batches.create/retrieve/list/cancel/
 * delete/results`). The SDK's `fetch` is the stand-in's handler in this process, so each test has its own
 * stand-in (no shared state, no stack) and its own clock.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { createStandin, type StandinOptions } from "../../../../local/claude_standin/server.ts";
import { CONTENT_BEHAVIORS, ERROR_BEHAVIORS } from "../../../../local/claude_standin/behavior.ts";
import { isErroredFate } from "../../../../local/claude_standin/batches.ts";

const HOST = "http://standin.test:4242";
const DAY_MS = 24 * 60 * 60 * 1000;

type BatchLine = Anthropic.Messages.MessageBatchIndividualResponse;

function setup(opts: StandinOptions & { start?: number } = {}) {
  let now = opts.start ?? Date.parse("2026-12-02T12:00:00.000Z");
  const standin = createStandin({ now: () => now, ...opts });
  const client = new Anthropic({
    apiKey: "sk-ant-local-test",
    baseURL: HOST,
    maxRetries: 0,
    fetch: (input, init) => standin.handler(new Request(input, init)),
  });
  async function admin(path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await standin.handler(
      new Request(`${HOST}/__admin/${path}`, {
        method: body === undefined ? "GET" : "POST",
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const json = await res.json();
    assert.ok(res.ok, `admin ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
  return {
    standin,
    client,
    admin,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const PROMPT = [
  "Generate a training conversation as JSON.",
  "Persona: Dana Reyes - Anxious Planner",
  "Emotional arc: fear → confidence",
  "Topic: rolling over a 401(k)",
  "Turns: 4",
].join("\n");

function params(extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}, prompt = PROMPT) {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 4096,
    messages: [{ role: "user" as const, content: prompt }],
    ...extra,
  };
}

function requests(n: number, prefix = "conv") {
  return Array.from({ length: n }, (_, i) => ({ custom_id: `${prefix}-${i}`, params: params() }));
}

async function collect(client: Anthropic, id: string): Promise<BatchLine[]> {
  const out: BatchLine[] = [];
  for await (const line of await client.messages.batches.results(id)) out.push(line);
  return out;
}

function tally(lines: BatchLine[]) {
  const counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
  for (const l of lines) counts[l.result.type]++;
  return counts;
}

Deno.test("batches: create answers an in_progress MessageBatch; counts stay at processing until the end", async () => {
  const { client, advance } = setup();
  const batch = await client.messages.batches.create({ requests: requests(10) }, {
    headers: { "x-standin-batch-processing-ms": "10000" },
  });
  assert.match(batch.id, /^msgbatch_/);
  assert.equal(batch.type, "message_batch");
  assert.equal(batch.processing_status, "in_progress");
  assert.deepEqual(batch.request_counts, {
    processing: 10,
    succeeded: 0,
    errored: 0,
    canceled: 0,
    expired: 0,
  });
  assert.equal(batch.results_url, null);
  assert.equal(batch.ended_at, null);
  assert.equal(batch.cancel_initiated_at, null);
  assert.equal(batch.archived_at, null);
  assert.equal(Date.parse(batch.expires_at) - Date.parse(batch.created_at), DAY_MS);
  await assert.rejects(client.messages.batches.results(batch.id), /No batch `results_url`/);

  advance(9000); // 90 % processed, but the counts do not move until the whole batch has ended
  const mid = await client.messages.batches.retrieve(batch.id);
  assert.equal(mid.processing_status, "in_progress");
  assert.deepEqual(mid.request_counts, { processing: 10, succeeded: 0, errored: 0, canceled: 0, expired: 0 });

  advance(1000);
  const done = await client.messages.batches.retrieve(batch.id);
  assert.equal(done.processing_status, "ended");
  assert.equal(done.request_counts.processing, 0);
  assert.equal(done.request_counts.succeeded, 10);
  assert.ok(done.ended_at !== null);
  assert.equal(
    done.results_url,
    `${HOST}/v1/messages/batches/${batch.id}/results`,
    "absolute, on its own host",
  );
});

Deno.test("batches: results decode line by line into succeeded Messages billed at the batch tier", async () => {
  const { client } = setup();
  const batch = await client.messages.batches.create({ requests: requests(25) }, {
    headers: { "x-standin-batch-processing-ms": "0" },
  });
  const lines = await collect(client, batch.id);
  assert.equal(lines.length, 25);
  assert.deepEqual(new Set(lines.map((l) => l.custom_id)), new Set(requests(25).map((r) => r.custom_id)));
  for (const line of lines) {
    assert.equal(line.result.type, "succeeded");
    if (line.result.type !== "succeeded") continue;
    const msg = line.result.message;
    assert.equal(msg.type, "message");
    assert.equal(msg.model, "claude-sonnet-4-5");
    assert.equal(msg.stop_reason, "end_turn");
    assert.equal(msg.usage.service_tier, "batch");
    const text = msg.content.map((b) => b.type === "text" ? b.text : "").join("");
    const conv = JSON.parse(text);
    assert.equal(conv.conversation_metadata.client_persona, "Dana Reyes - Anxious Planner");
  }
  assert.notDeepEqual(
    lines.map((l) => l.custom_id),
    requests(25).map((r) => r.custom_id),
    "results come in no particular order",
  );
});

Deno.test("batches: mixed behaviours give succeeded and errored lines; counts match the file; downloads are identical", async () => {
  const { client } = setup();
  const reqs = requests(400, "mix");
  const batch = await client.messages.batches.create({ requests: reqs }, {
    headers: { "x-standin-batch-processing-ms": "0", "x-standin-behavior": "mixed" },
  });
  const ended = await client.messages.batches.retrieve(batch.id);
  const first = await collect(client, batch.id);
  const second = await collect(client, batch.id);
  assert.deepEqual(second, first, "a second download gives the same file (a collector may resume)");
  const counts = tally(first);
  assert.equal(first.length, 400);
  assert.deepEqual(
    { ...counts, processing: 0 },
    { ...ended.request_counts },
    "request_counts agree with the results file",
  );
  assert.ok(counts.succeeded > 250 && counts.errored > 10, JSON.stringify(counts));
  const errorTypes = new Set(
    first.flatMap((l) => l.result.type === "errored" ? [l.result.error.error.type] : []),
  );
  for (const t of errorTypes) {
    assert.ok(["overloaded_error", "rate_limit_error", "api_error"].includes(t), `transient: ${t}`);
  }
  for (const l of first) {
    if (l.result.type !== "errored") continue;
    assert.equal(l.result.error.type, "error");
    assert.match(l.result.error.request_id ?? "", /^req_local_/);
  }
  const stops = new Set(
    first.flatMap((l) => l.result.type === "succeeded" ? [l.result.message.stop_reason] : []),
  );
  assert.ok(stops.has("end_turn") && stops.has("max_tokens"), "truncated answers are among the successes");

  // The same requests in a fresh stand-in: the same outcomes in the same order (seeded by custom_id).
  const again = setup();
  const b2 = await again.client.messages.batches.create({ requests: reqs }, {
    headers: { "x-standin-batch-processing-ms": "0", "x-standin-behavior": "mixed" },
  });
  const lines2 = await collect(again.client, b2.id);
  assert.deepEqual(
    lines2.map((l) => [l.custom_id, l.result.type]),
    first.map((l) => [l.custom_id, l.result.type]),
  );

  // Re-submitted in a later batch, the transient failures recover, as a retried /v1/messages call does.
  const failed = first.filter((l) => l.result.type === "errored").map((l) => l.custom_id);
  const retry = await client.messages.batches.create({
    requests: reqs.filter((r) => failed.includes(r.custom_id)),
  }, { headers: { "x-standin-batch-processing-ms": "0", "x-standin-behavior": "mixed" } });
  assert.equal(tally(await collect(client, retry.id)).errored, 0);
});

Deno.test("batches: every behaviour lands as the line type its request_counts say", async () => {
  const { client } = setup();
  const names = [...CONTENT_BEHAVIORS, ...ERROR_BEHAVIORS];
  const reqs = names.map((name) => ({
    custom_id: `b-${name}`,
    params: params(
      name === "schema_rejected"
        ? { output_config: { format: { type: "json_schema", schema: { type: "object" } } } }
        : {},
      `${PROMPT}\n[standin:${name}]`,
    ),
  }));
  const batch = await client.messages.batches.create({ requests: reqs }, {
    headers: { "x-standin-batch-processing-ms": "0" },
  });
  const lines = await collect(client, batch.id);
  const byId = new Map(lines.map((l) => [l.custom_id, l.result]));
  for (const name of names) {
    const result = byId.get(`b-${name}`)!;
    assert.equal(result.type, isErroredFate(name) ? "errored" : "succeeded", name);
  }
  const errorType = (id: string) => {
    const r = byId.get(id);
    return r?.type === "errored" ? r.error.error.type : null;
  };
  assert.equal(errorType("b-overloaded"), "overloaded_error");
  assert.equal(errorType("b-schema_rejected"), "invalid_request_error");
  assert.equal(errorType("b-spend_limit"), "rate_limit_error");
  const refusal = byId.get("b-refusal");
  assert.equal(refusal?.type === "succeeded" && refusal.message.stop_reason, "refusal");
  const ended = await client.messages.batches.retrieve(batch.id);
  assert.deepEqual({ ...tally(lines), processing: 0 }, { ...ended.request_counts });
});

Deno.test("batches: invalid params and stream:true are accepted at create and come back as errored lines", async () => {
  const { client } = setup();
  const bad = { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }; // no max_tokens
  const batch = await client.messages.batches.create({
    requests: [
      { custom_id: "ok", params: params() },
      { custom_id: "no-max-tokens", params: bad as unknown as Anthropic.MessageCreateParamsNonStreaming },
      {
        custom_id: "streams",
        params: { ...params(), stream: true } as unknown as Anthropic.MessageCreateParamsNonStreaming,
      },
    ],
  }, { headers: { "x-standin-batch-processing-ms": "0" } });
  assert.equal(batch.processing_status, "in_progress");
  assert.equal(batch.request_counts.processing, 3);
  const byId = new Map((await collect(client, batch.id)).map((l) => [l.custom_id, l.result]));
  assert.equal(byId.get("ok")?.type, "succeeded");
  for (const id of ["no-max-tokens", "streams"]) {
    const r = byId.get(id);
    assert.ok(r?.type === "errored", id);
    assert.equal(r.error.error.type, "invalid_request_error");
  }
  const r = byId.get("no-max-tokens");
  assert.match(r?.type === "errored" ? r.error.error.message : "", /max_tokens/);
  const ended = await client.messages.batches.retrieve(batch.id);
  assert.equal(ended.request_counts.errored, 2);
});

Deno.test("batches: a repeated custom_id is a 400; an empty batch and a malformed custom_id too", async () => {
  const { client } = setup();
  const dup = [{ custom_id: "same", params: params() }, { custom_id: "same", params: params() }];
  await assert.rejects(client.messages.batches.create({ requests: dup }), (err) => {
    assert.ok(err instanceof Anthropic.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal((err.error as { error: { type: string } }).error.type, "invalid_request_error");
    assert.match(err.message, /custom_id/);
    return true;
  });
  await assert.rejects(client.messages.batches.create({ requests: [] }), Anthropic.BadRequestError);
  await assert.rejects(
    client.messages.batches.create({ requests: [{ custom_id: "has space", params: params() }] }),
    Anthropic.BadRequestError,
  );
  const page = await client.messages.batches.list();
  assert.equal(page.data.length, 0, "nothing was created");
});

Deno.test("batches: over 100,000 requests is a 413 request_too_large", async () => {
  const { client } = setup();
  const tiny = { model: "m", max_tokens: 1, messages: [{ role: "user" as const, content: "x" }] };
  const reqs = Array.from({ length: 100_001 }, (_, i) => ({ custom_id: `r${i}`, params: tiny }));
  await assert.rejects(client.messages.batches.create({ requests: reqs }), (err) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 413);
    assert.equal((err.error as { error: { type: string } }).error.type, "request_too_large");
    return true;
  });
});

Deno.test("batches: a body over the byte limit is a 413 before it is parsed", async () => {
  // The real limit is 256 MB; the check is the same code with a smaller number.
  const { client } = setup({ batchLimits: { maxBytes: 20_000 } });
  await assert.rejects(client.messages.batches.create({ requests: requests(100) }), (err) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 413);
    assert.equal((err.error as { error: { type: string } }).error.type, "request_too_large");
    return true;
  });
  const ok = await client.messages.batches.create({ requests: requests(5) });
  assert.equal(ok.request_counts.processing, 5);
});

Deno.test("batches: list is newest first and pages with limit, after_id and before_id", async () => {
  const { client, advance } = setup();
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    ids.push((await client.messages.batches.create({ requests: requests(1, `l${i}`) })).id);
    advance(1000);
  }
  const newestFirst = [...ids].reverse();
  const first = await client.messages.batches.list({ limit: 3 });
  assert.deepEqual(first.data.map((b) => b.id), newestFirst.slice(0, 3));
  assert.equal(first.has_more, true);
  assert.equal(first.first_id, newestFirst[0]);
  assert.equal(first.last_id, newestFirst[2]);

  const all: string[] = [];
  for await (const b of client.messages.batches.list({ limit: 3 })) all.push(b.id); // the SDK's auto-pagination
  assert.deepEqual(all, newestFirst);

  const after = await client.messages.batches.list({ limit: 3, after_id: newestFirst[5] });
  assert.deepEqual(after.data.map((b) => b.id), [newestFirst[6]]);
  assert.equal(after.has_more, false);

  const before = await client.messages.batches.list({ limit: 2, before_id: newestFirst[4] });
  assert.deepEqual(before.data.map((b) => b.id), newestFirst.slice(2, 4));
  assert.equal(before.has_more, true);
  const back: string[] = [];
  for await (const b of client.messages.batches.list({ limit: 2, before_id: newestFirst[6] })) {
    back.push(b.id);
  }
  assert.deepEqual(new Set(back), new Set(newestFirst.slice(0, 6)), "paging backwards reaches the newest");

  const defaultPage = await client.messages.batches.list();
  assert.equal(defaultPage.data.length, 7);
  await assert.rejects(client.messages.batches.list({ limit: 0 }), Anthropic.BadRequestError);
  await assert.rejects(client.messages.batches.list({ limit: 1001 }), Anthropic.BadRequestError);
  assert.equal((await client.messages.batches.list({ limit: 1000 })).data.length, 7);
});

Deno.test("batches: cancel goes through canceling to ended; what was not processed is canceled", async () => {
  const { client, admin, advance } = setup();
  await admin("batches/config", { cancel_ms: 500 });
  const batch = await client.messages.batches.create({ requests: requests(10, "c") }, {
    headers: { "x-standin-batch-processing-ms": "3600000" },
  });
  await admin(`batches/${batch.id}/process`, { count: 3 });
  await assert.rejects(client.messages.batches.delete(batch.id), (err) => {
    assert.ok(err instanceof Anthropic.BadRequestError, "an in-progress batch cannot be deleted");
    return true;
  });

  const canceling = await client.messages.batches.cancel(batch.id);
  assert.equal(canceling.processing_status, "canceling");
  assert.ok(canceling.cancel_initiated_at !== null);
  assert.equal(canceling.request_counts.processing, 10);
  assert.equal((await client.messages.batches.retrieve(batch.id)).processing_status, "canceling");
  await assert.rejects(client.messages.batches.delete(batch.id), Anthropic.BadRequestError);

  advance(500);
  const ended = await client.messages.batches.retrieve(batch.id);
  assert.equal(ended.processing_status, "ended");
  assert.equal(ended.request_counts.canceled, 7);
  assert.equal(ended.request_counts.succeeded + ended.request_counts.errored, 3);
  const lines = await collect(client, batch.id);
  assert.equal(lines.length, 10, "every request has a line, canceled ones included");
  assert.deepEqual(tally(lines), { succeeded: 3, errored: 0, canceled: 7, expired: 0 });
  await assert.rejects(client.messages.batches.cancel(batch.id), Anthropic.BadRequestError);

  const deleted = await client.messages.batches.delete(batch.id);
  assert.deepEqual(deleted, { id: batch.id, type: "message_batch_deleted" });
  await assert.rejects(client.messages.batches.retrieve(batch.id), Anthropic.NotFoundError);
  assert.equal((await client.messages.batches.list()).data.length, 0);
});

Deno.test("batches: at expires_at (24 h) what is unprocessed is expired; admin expire does it now", async () => {
  const { client, admin, advance } = setup();
  const slow = await client.messages.batches.create({ requests: requests(10, "e") }, {
    headers: { "x-standin-batch-processing-ms": String(2 * DAY_MS) },
  });
  advance(DAY_MS - 1);
  assert.equal((await client.messages.batches.retrieve(slow.id)).processing_status, "in_progress");
  advance(1);
  const ended = await client.messages.batches.retrieve(slow.id);
  assert.equal(ended.processing_status, "ended");
  assert.deepEqual({ ...ended.request_counts }, {
    processing: 0,
    succeeded: 5,
    errored: 0,
    canceled: 0,
    expired: 5,
  }, "half the processing time had passed: half the requests were answered");
  assert.equal(tally(await collect(client, slow.id)).expired, 5);

  const now = await client.messages.batches.create({ requests: requests(4, "x") }, {
    headers: { "x-standin-batch-processing-ms": "60000" },
  });
  await admin(`batches/${now.id}/expire`, { count: 1 });
  const expired = await client.messages.batches.retrieve(now.id);
  assert.equal(expired.request_counts.expired, 3);
  assert.equal(expired.request_counts.succeeded, 1);
});

Deno.test("batches: admin end finishes a batch now; archive hides its results", async () => {
  const { client, admin } = setup();
  const b = await client.messages.batches.create({ requests: requests(3, "a") }, {
    headers: { "x-standin-batch-processing-ms": "3600000" },
  });
  await admin(`batches/${b.id}/end`, {});
  assert.equal((await client.messages.batches.retrieve(b.id)).request_counts.succeeded, 3);
  const listed = await admin("batches") as unknown as Array<{ id: string; processing_status: string }>;
  assert.deepEqual(listed.map((x) => [x.id, x.processing_status]), [[b.id, "ended"]]);
  await admin(`batches/${b.id}/archive`, {});
  const archived = await client.messages.batches.retrieve(b.id);
  assert.ok(archived.archived_at !== null);
  await assert.rejects(client.messages.batches.results(b.id), Anthropic.NotFoundError);
});

Deno.test("batches: the cut-download fault drops the results body midway, once; the next download is whole", async () => {
  const { client, admin } = setup();
  const b = await client.messages.batches.create({ requests: requests(200, "cut") }, {
    headers: { "x-standin-batch-processing-ms": "0" },
  });
  await admin("batches/fault", { cut_after_lines: 70, batch_id: b.id });
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const line of await client.messages.batches.results(b.id)) seen.push(line.custom_id);
  });
  assert.equal(seen.length, 70, "the lines before the cut decode; the half line after it never does");
  const whole = await collect(client, b.id);
  assert.equal(whole.length, 200);
  assert.deepEqual(whole.slice(0, 70).map((l) => l.custom_id), seen);
});

Deno.test("batches: the seed fixes the results order", async () => {
  const orderFor = async (seed: number) => {
    const { client, admin } = setup();
    await admin("batches/config", { seed, processing_ms: 0 });
    const b = await client.messages.batches.create({ requests: requests(30, "s") });
    return (await collect(client, b.id)).map((l) => l.custom_id);
  };
  assert.deepEqual(await orderFor(7), await orderFor(7));
  assert.notDeepEqual(await orderFor(7), await orderFor(8));
});

Deno.test("batches: auth is checked as for /v1/messages", async () => {
  const { standin } = setup();
  const noKey = await standin.handler(
    new Request(`${HOST}/v1/messages/batches`, { headers: { "anthropic-version": "2023-06-01" } }),
  );
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).error.type, "authentication_error");
  const noVersion = await standin.handler(
    new Request(`${HOST}/v1/messages/batches`, { headers: { "x-api-key": "k" } }),
  );
  assert.equal(noVersion.status, 400);
  await noVersion.body?.cancel();
});

Deno.test("batches: a 10,000-request batch is served, every line decoded", async () => {
  const { client } = setup();
  const b = await client.messages.batches.create({ requests: requests(10_000, "big") }, {
    headers: { "x-standin-batch-processing-ms": "0", "x-standin-behavior": "mixed" },
  });
  let n = 0;
  const ids = new Set<string>();
  for await (const line of await client.messages.batches.results(b.id)) {
    n++;
    ids.add(line.custom_id);
  }
  assert.equal(n, 10_000);
  assert.equal(ids.size, 10_000);
});
