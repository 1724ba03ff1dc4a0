/**
 * The Batches adapter over the real SDK with the stand-in as its `fetch` (no stack): create, retrieve,
 * cancel, the results file as raw bytes, a cut download as a failure, and HTTP errors as values.
 */
import assert from "node:assert/strict";
import { anthropicBatchApi } from "../../../shared/adapters/anthropic_batch_api.ts";
import { createStandin } from "../../../local/claude_standin/server.ts";

const HOST = "http://standin.test:4242";

function setup() {
  let now = Date.parse("2026-12-03T06:00:00.000Z");
  const standin = createStandin({ now: () => now });
  const fetch = (input: RequestInfo | URL, init?: RequestInit) => standin.handler(new Request(input, init));
  const api = anthropicBatchApi({
    apiKey: "sk-ant-local-test",
    baseURL: HOST,
    timeoutMs: 10_000,
    fetch,
    maxRetries: 0,
  });
  const admin = (path: string, body: unknown) =>
    standin.handler(new Request(`${HOST}/__admin/${path}`, { method: "POST", body: JSON.stringify(body) }));
  return { api, admin, advance: (ms: number) => (now += ms) };
}

const params = {
  model: "claude-sonnet-4-5",
  max_tokens: 2048,
  messages: [{ role: "user", content: "Topic: 401(k)" }],
};

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of stream) chunks.push(c);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

Deno.test("anthropicBatchApi() creates, retrieves and downloads the results file byte for byte", async () => {
  const { api, advance } = setup();
  const created = await api.create([{ custom_id: "a", params }, { custom_id: "b", params }]);
  assert.ok(created.ok);
  assert.equal(created.value.status, "in_progress");
  advance(60_000);
  const got = await api.retrieve(created.value.id);
  assert.ok(got.ok);
  assert.equal(got.value.status, "ended");
  assert.ok(got.value.resultsUrl);
  const file = await api.openResults(got.value);
  assert.ok(file.ok);
  const lines = new TextDecoder().decode(await readAll(file.value)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(lines.map((l) => l.custom_id).sort(), ["a", "b"]);
});

Deno.test("anthropicBatchApi() reports a cut download and an unknown batch as failures, never throws", async () => {
  const { api, admin, advance } = setup();
  const created = await api.create([{ custom_id: "a", params }, { custom_id: "b", params }, {
    custom_id: "c",
    params,
  }]);
  assert.ok(created.ok);
  advance(60_000);
  const got = await api.retrieve(created.value.id);
  assert.ok(got.ok);
  await admin("batches/fault", { cut_after_lines: 1 });
  const cut = await api.openResults(got.value);
  // A cut arrives either as a refused request or, mid-body, as an iteration that throws: never a short file.
  if (cut.ok) await assert.rejects(() => readAll(cut.value));
  const missing = await api.retrieve("msgbatch_nope");
  assert.ok(!missing.ok);
  assert.equal(missing.failure.status, 404);
  assert.equal(missing.failure.kind, "failed");
  const cancel = await api.cancel(created.value.id);
  assert.ok(!cancel.ok, "an ended batch cannot be canceled");
});

Deno.test("anthropicBatchApi() lists the batches created since a time, newest first", async () => {
  const { api } = setup();
  const a = await api.create([{ custom_id: "a", params }]);
  const b = await api.create([{ custom_id: "b", params }, { custom_id: "c", params }]);
  assert.ok(a.ok && b.ok);
  const all = await api.listSince(new Date(a.value.createdAt.getTime() - 1000));
  assert.ok(all.ok);
  const ids = all.value.map((r) => r.id);
  assert.ok(ids.includes(a.value.id) && ids.includes(b.value.id));
  assert.ok(ids.indexOf(b.value.id) < ids.indexOf(a.value.id), "newest first");
  assert.equal(all.value.find((r) => r.id === b.value.id)!.counts.processing, 2);
  const none = await api.listSince(new Date(b.value.createdAt.getTime() + 3_600_000));
  assert.ok(none.ok);
  assert.equal(none.value.length, 0);
});
