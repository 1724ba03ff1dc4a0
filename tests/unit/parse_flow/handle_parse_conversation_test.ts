import assert from "node:assert/strict";
import { serveHandler } from "../../../shared/http/serve.ts";
import {
  handleParseConversation,
  type ParseHandlerDeps,
} from "../../../shared/parse_flow/handle_parse_conversation.ts";
import { createParser, parseStoredResponse } from "../../../shared/parse/mod.ts";
import { makeConversation, textResponse } from "../../fixtures/parse/samples.ts";
import { fakeDeps, FakeQueue, FakeStore, flowTest, NOW, stored } from "./_fakes.ts";

const KEY = "service-role-key-for-unit-tests";
const A = "0a0a0a0a-1111-4111-8111-000000000001";
const B = "0a0a0a0a-1111-4111-8111-000000000002";
const clean = textResponse(JSON.stringify(makeConversation(2, { turns: 2 })));

function setup(): { queue: FakeQueue; store: FakeStore; handler: (req: Request) => Promise<Response> } {
  const queue = new FakeQueue();
  const store = new FakeStore();
  const deps: ParseHandlerDeps = {
    flow: fakeDeps(queue, store),
    serviceKeys: [KEY],
    concurrency: 2,
    spoolBatch: 5,
  };
  return { queue, store, handler: serveHandler(handleParseConversation(deps), "parse-conversation") };
}

function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }): Request {
  return new Request("http://local/functions/v1/parse-conversation", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

flowTest("handleParseConversation() parses one conversation and answers its result", async () => {
  const { queue, store, handler } = setup();
  await stored(queue, store, A, clean);
  const res = await handler(post({ conversation_id: A }));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.results.length, 1);
  assert.equal(body.results[0].result, "completed");
  assert.deepEqual(body.counts, { completed: 1, parse_failed: 0, released: 0, skipped: 0, error: 0 });
  assert.equal(queue.completed[0].triggeredBy, "trigger", "a single id defaults to the trigger as source");
});

flowTest("handleParseConversation() answers a batch in request order, once per id", async () => {
  const { queue, store, handler } = setup();
  await stored(queue, store, A, clean);
  await stored(queue, store, B, textResponse("no json here"));
  const res = await handler(post({ conversation_ids: [B, A, B.toUpperCase()], source: "review" }));
  const body = await res.json();
  assert.deepEqual(body.results.map((r: { conversation_id: string }) => r.conversation_id), [B, A]);
  assert.deepEqual(body.results.map((r: { result: string }) => r.result), ["parse_failed", "completed"]);
  assert.equal(queue.completed[0].triggeredBy, "review");
});

flowTest("handleParseConversation() treats duplicate deliveries as no-ops", async () => {
  const { queue, store, handler } = setup();
  await stored(queue, store, A, clean);
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => handler(post({ conversation_id: A }))));
  const results = await Promise.all(answers.map(async (r) => (await r.json()).results[0].result));
  assert.equal(results.filter((r) => r === "completed").length, 1);
  assert.equal(results.filter((r) => r === "skipped").length, 4);
  assert.equal(queue.rows.get(A)!.attempts, 1);
});

flowTest("handleParseConversation() flushes the spool when asked", async () => {
  const { queue, handler } = setup();
  await queue.addSpool(A, new TextEncoder().encode(clean));
  const body = await (await handler(post({ flush_spool: true }))).json();
  assert.equal(body.spool.uploaded, 1);
  assert.deepEqual(body.results, []);
});

const refused: ReadonlyArray<[string, Request, number, string]> = [
  ["no authorization", post({ conversation_id: A }, {}), 401, "unauthorized"],
  [
    "an anon-like key",
    post({ conversation_id: A }, { authorization: "Bearer not-the-key" }),
    403,
    "forbidden",
  ],
  [
    "GET",
    new Request("http://local/x", { headers: { authorization: `Bearer ${KEY}` } }),
    405,
    "method_not_allowed",
  ],
  ["an empty object", post({}), 400, "invalid_body"],
  ["a non-uuid id", post({ conversation_id: "123" }), 400, "invalid_body"],
  ["an unknown field", post({ conversation_id: A, extra: 1 }), 400, "invalid_body"],
  ["an empty list", post({ conversation_ids: [] }), 400, "invalid_body"],
  ["51 ids", post({ conversation_ids: Array.from({ length: 51 }, () => A) }), 400, "invalid_body"],
  ["an unknown source", post({ conversation_id: A, source: "cron" }), 400, "invalid_body"],
  ["flush_spool false alone", post({ flush_spool: false }), 400, "invalid_body"],
  ["malformed JSON", post("{"), 400, "invalid_body"],
  [
    "a text body",
    new Request("http://local/x", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "text/plain" },
      body: "x",
    }),
    415,
    "unsupported_media_type",
  ],
];

for (const [name, req, status, code] of refused) {
  flowTest(`handleParseConversation() refuses ${name} with ${status} ${code}`, async () => {
    const { queue, handler } = setup();
    queue.add(A, null);
    const res = await handler(req);
    assert.equal(res.status, status);
    const body = await res.json();
    assert.equal(body.error.code, code);
    assert.equal(typeof body.error.message, "string");
    assert.equal(queue.rows.get(A)!.attempts, 0, "nothing was claimed");
  });
}

flowTest("handleParseConversation() accepts the key in the apikey header too", async () => {
  const { queue, store, handler } = setup();
  await stored(queue, store, A, clean);
  const res = await handler(post({ conversation_id: A }, { apikey: KEY }));
  assert.equal(res.status, 200);
});

flowTest(
  "handleParseConversation() keeps one item that throws or hits a limit from failing the rest of a batch",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    const C = "0a0a0a0a-1111-4111-8111-000000000003";
    const D = "0a0a0a0a-1111-4111-8111-000000000004";
    const limited = createParser({ maxRawBytes: 4096 });
    const poison = "poison: the engine throws on this one";
    const flow = fakeDeps(queue, store, {
      parse: (raw) => {
        if (new TextDecoder().decode(raw).includes(poison)) throw new Error("a bug in the engine");
        return limited(raw);
      },
    });
    await stored(queue, store, A, clean);
    await stored(queue, store, B, textResponse("x".repeat(5000)));
    await stored(queue, store, C, textResponse(poison));
    await stored(queue, store, D, clean);
    const deps: ParseHandlerDeps = { flow, serviceKeys: [KEY], concurrency: 2, spoolBatch: 5 };
    const handler = serveHandler(handleParseConversation(deps), "parse-conversation");
    const body = await (await handler(post({ conversation_ids: [B, C, A, D] }))).json();
    const byId = Object.fromEntries(
      body.results.map((r: { conversation_id: string }) => [r.conversation_id, r]),
    );
    assert.equal(byId[B].result, "parse_failed");
    assert.equal(byId[B].error_code, "too_large", "over the size limit: refused unread, into review");
    assert.equal(byId[C].result, "released", "a throwing engine releases that item only");
    assert.equal(byId[A].result, "completed");
    assert.equal(byId[D].result, "completed");
  },
);

flowTest("handleParseConversation() defers the rest of a batch once its time budget is spent", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  const C = "0a0a0a0a-1111-4111-8111-000000000003";
  let now = 0;
  const flow = fakeDeps(queue, store, {
    clock: { now: () => NOW, monotonic: () => now, sleep: () => Promise.resolve() },
    parse: (raw) => {
      now += 700; // an expensive raw object
      return parseStoredResponse(raw);
    },
  });
  for (const id of [A, B, C]) await stored(queue, store, id, clean);
  const deps: ParseHandlerDeps = {
    flow,
    serviceKeys: [KEY],
    concurrency: 1,
    spoolBatch: 5,
    batchBudgetMs: 1000,
  };
  const handler = serveHandler(handleParseConversation(deps), "parse-conversation");
  const body = await (await handler(post({ conversation_ids: [A, B, C] }))).json();
  assert.deepEqual(body.results.map((r: { result: string }) => r.result), [
    "completed",
    "completed",
    "skipped",
  ]);
  assert.equal(body.results[2].reason, "deferred");
  assert.equal(
    queue.rows.get(C)?.status,
    "raw_stored",
    "a deferred id is not claimed: the sweeper sends it again",
  );
});
