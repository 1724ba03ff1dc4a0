import assert from "node:assert/strict";
import {
  type GenerateBatchDeps,
  handleGenerateBatch,
  matchBatchRoute,
} from "../../../shared/batch/handle_generate_batch.ts";
import { AppError } from "../../../shared/errors.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { ARC, FakeRepo, PERSONA, TOPIC, USER } from "../generate/_fakes.ts";
import { clock, FakeBatchApi, FakeBatchStore, settings } from "./_fakes.ts";

const KEY = "sb_secret_test";
const URL_BASE = "http://fn.test/functions/v1/generate-batch";
const REQ = { persona_id: PERSONA, emotional_arc_id: ARC, training_topic_id: TOPIC, tier: "template" };

function app() {
  const store = new FakeBatchStore();
  const api = new FakeBatchApi();
  const deps: GenerateBatchDeps = {
    repo: new FakeRepo(),
    store,
    api,
    clock,
    model: "claude-sonnet-4-5",
    defaultMaxTokens: 4096,
    structuredOutputs: true,
    serviceKeys: [KEY],
    settings: { ...settings, maxRequests: 3 },
  };
  return { fetch: serveHandler(handleGenerateBatch(deps), "generate-batch"), store, api };
}

const headers = (extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${KEY}`,
  "x-user-id": USER,
  "content-type": "application/json",
  ...extra,
});

Deno.test("matchBatchRoute() maps paths and verbs, with 404 and 405 for the rest", () => {
  assert.deepEqual(matchBatchRoute("POST", "/functions/v1/generate-batch"), { kind: "submit" });
  assert.deepEqual(matchBatchRoute("GET", "/generate-batch"), { kind: "list" });
  const id = crypto.randomUUID();
  assert.deepEqual(matchBatchRoute("GET", `/generate-batch/${id}`), { kind: "get", batchId: id });
  assert.deepEqual(matchBatchRoute("POST", `/generate-batch/${id}/cancel`), { kind: "cancel", batchId: id });
  assert.throws(
    () => matchBatchRoute("POST", `/generate-batch/${id}`),
    (e) => (e as AppError).code === "method_not_allowed",
  );
  assert.throws(
    () => matchBatchRoute("GET", `/generate-batch/${id}/x`),
    (e) => (e as AppError).code === "not_found",
  );
  assert.throws(
    () => matchBatchRoute("GET", "/generate-batch/nope"),
    (e) => (e as AppError).code === "bad_request",
  );
});

Deno.test("POST answers 202 with the batch and conversation ids; the same Idempotency-Key replays with 200", async () => {
  const { fetch, api } = app();
  const body = JSON.stringify({ requests: [REQ, REQ] });
  const res = await fetch(
    new Request(URL_BASE, { method: "POST", headers: headers({ "idempotency-key": "k" }), body }),
  );
  assert.equal(res.status, 202);
  const out = await res.json();
  assert.equal(out.conversation_ids.length, 2);
  const again = await fetch(
    new Request(URL_BASE, { method: "POST", headers: headers({ "idempotency-key": "k" }), body }),
  );
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.equal((await again.json()).batch_id, out.batch_id);
  assert.equal(api.created.length, 1);

  const list = await fetch(new Request(URL_BASE, { headers: headers() }));
  assert.equal((await list.json()).batches[0].conversation_counts.batch_queued, 2);
  const one = await fetch(new Request(`${URL_BASE}/${out.batch_id}`, { headers: headers() }));
  assert.deepEqual((await one.json()).conversation_ids, out.conversation_ids);
});

Deno.test("POST refuses more requests than BATCH_MAX_REQUESTS, unknown fields, and no token", async () => {
  const { fetch } = app();
  const tooMany = await fetch(
    new Request(URL_BASE, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ requests: [REQ, REQ, REQ, REQ] }),
    }),
  );
  assert.equal(tooMany.status, 400);
  const extra = await fetch(
    new Request(URL_BASE, {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ requests: [{ ...REQ, x: 1 }] }),
    }),
  );
  assert.equal(extra.status, 400);
  const anon = await fetch(new Request(URL_BASE, { method: "POST", body: "{}" }));
  assert.equal(anon.status, 401);
});
