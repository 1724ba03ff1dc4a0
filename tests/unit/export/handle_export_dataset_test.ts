import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { serveHandler } from "../../../shared/http/serve.ts";
import { DEFAULT_FILTER } from "../../../shared/export/filter.ts";
import { manifestSchema } from "../../../shared/export/manifest.ts";
import {
  exportDatasetRequestSchema,
  filterOf,
  handleExportDataset,
} from "../../../shared/export/handle_export_dataset.ts";
import { fakeExportSource, type FakeSourceOptions } from "./_fixtures.ts";

const KEY = "service-key-for-export-tests-0000";
/** A user's access token (unsigned: the platform checked it; the handler reads the claims). */
const USER_JWT = [
  btoa(JSON.stringify({ alg: "HS256", typ: "JWT" })),
  btoa(JSON.stringify({
    sub: "00000000-0000-4000-8000-0000000000aa",
    role: "authenticated",
    aud: "authenticated",
    exp: 4102444800,
  })),
  "sig",
].join(".").replace(/=/g, "");

function setup(n = 5, opts: FakeSourceOptions = {}) {
  const fake = fakeExportSource(n, { bulk: true, ...opts });
  const handler = serveHandler(
    handleExportDataset({ source: fake.src, serviceKeys: [KEY], pageSize: 2, concurrency: 2 }),
    "export-dataset",
  );
  return { ...fake, handler };
}

function post(body: unknown, key: string | null = KEY, method = "POST"): Request {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  return new Request("http://localhost/functions/v1/export-dataset", {
    method,
    headers,
    body: method === "POST" ? (typeof body === "string" ? body : JSON.stringify(body)) : undefined,
  });
}

Deno.test("handleExportDataset() answers the service key only: 401 without a key, 403 for a user or a wrong key", async () => {
  const { handler, calls } = setup();
  for (const [key, status] of [[null, 401], [USER_JWT, 403], ["wrong-key-wrong-key", 403]] as const) {
    const res = await handler(post({}, key));
    assert.equal(res.status, status, String(key));
    const body = await res.json();
    assert.equal(body.error.code, status === 401 ? "unauthorized" : "forbidden");
  }
  assert.equal((await handler(post({}, KEY, "GET"))).status, 405);
  assert.deepEqual(calls, [], "nothing is read for a refused caller");
});

Deno.test("handleExportDataset() refuses a bad filter or format with a JSON 400 naming the field", async () => {
  const { handler, calls } = setup();
  for (
    const [body, field] of [
      [{ filter: { since: "yesterday" } }, "filter.since"],
      [{ filter: { sources: ["invented"] } }, "filter.sources"],
      [{ filter: { users: ["not-a-uuid"] } }, "filter.users"],
      [{ filter: { statuses: [] } }, "filter.statuses"],
      [{ filter: { colour: "red" } }, "filter"],
      [{ format: "csv" }, "format"],
      [{ part: "both" }, "part"],
    ] as const
  ) {
    const res = await handler(post(body));
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const err = (await res.json()).error;
    assert.equal(err.code, "invalid_body");
    assert.ok(String(err.message).includes(field), `${err.message} names ${field}`);
  }
  assert.equal((await handler(post("{not json"))).status, 400);
  assert.deepEqual(calls, []);
});

Deno.test("handleExportDataset() streams the JSONL lines, then the manifest that accounts for them", async () => {
  const { handler } = setup(5, { missing: new Set([3]) });
  const res = await handler(post({ format: "openai" }));
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/x-ndjson/);
  assert.match(res.headers.get("content-disposition") ?? "", /export\.jsonl/);
  const data = new Uint8Array(await res.arrayBuffer());
  const lines = new TextDecoder().decode(data).trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.messages.at(-1).content), ["a0", "a1", "a2", "a4"]);

  const mres = await setup(5, { missing: new Set([3]) }).handler(
    post({ format: "openai", part: "manifest" }),
  );
  assert.equal(mres.status, 200);
  const m = manifestSchema.parse(await mres.json());
  assert.equal(m.files[0].sha256, createHash("sha256").update(data).digest("hex"));
  assert.deepEqual([m.counts.conversations, m.skipped.length, m.format], [4, 1, "openai"]);
});

Deno.test("handleExportDataset() with gzip sends a gzip file of the same lines", async () => {
  const plain = await (await setup().handler(post({}))).text();
  const res = await setup().handler(post({ gzip: true }));
  assert.equal(res.headers.get("content-type"), "application/gzip");
  assert.match(res.headers.get("content-disposition") ?? "", /export\.jsonl\.gz/);
  const text = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
  assert.equal(text, plain);
});

Deno.test("handleExportDataset() answers 503 when the database is down before the first byte", async () => {
  const res = await setup(5, { dbFailAt: 1 }).handler(post({}));
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error.code, "upstream_unavailable");
});

Deno.test("the request's filter reads like the CLI's: defaults filled in, lists sorted without duplicates", () => {
  const body = exportDatasetRequestSchema.parse({});
  assert.deepEqual([body.format, body.gzip, body.part], ["messages", false, "data"]);
  assert.deepEqual(filterOf(body.filter), DEFAULT_FILTER);
  const f = filterOf(
    exportDatasetRequestSchema.parse({ filter: { exclude_methods: ["manual", "jsonrepair", "manual"] } })
      .filter,
  );
  assert.deepEqual(f.exclude_methods, ["jsonrepair", "manual"]);
});
