import assert from "node:assert/strict";
import { z } from "zod";
import { AppError } from "../../../shared/errors.ts";
import { readBytesUpTo, readJsonBody, requireMethod } from "../../../shared/http/request.ts";
import { errorResponse } from "../../../shared/http/respond.ts";

const schema = z.object({ id: z.uuid() }).strict();

function post(
  body: BodyInit | null,
  headers: Record<string, string> = { "content-type": "application/json" },
) {
  return new Request("http://x/", { method: "POST", body, headers });
}

const bad: ReadonlyArray<[string, Request, string]> = [
  ["an empty body", post(""), "invalid_body"],
  ["broken JSON", post("{"), "invalid_body"],
  ["a text/plain body", post("{}", { "content-type": "text/plain" }), "unsupported_media_type"],
  ["a body over the limit", post(JSON.stringify({ id: "x".repeat(200) })), "payload_too_large"],
  ["invalid UTF-8", post(new Uint8Array([0x7b, 0xff, 0x7d])), "invalid_body"],
];

for (const [name, request, code] of bad) {
  Deno.test(`readJsonBody() refuses ${name} with ${code}`, async () => {
    await assert.rejects(readJsonBody(request, schema, 100), (e) => e instanceof AppError && e.code === code);
  });
}

Deno.test("readJsonBody() turns schema failures into a 400 naming the field", async () => {
  const err = await readJsonBody(post('{"id": 3}'), schema).catch((e) => e);
  const res = errorResponse(err);
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, "invalid_body");
  assert.match(body.error.message, /^id: /);
});

Deno.test("requireMethod() answers 405 with an Allow header", async () => {
  let caught: unknown;
  try {
    requireMethod(new Request("http://x/", { method: "DELETE" }), "POST");
  } catch (e) {
    caught = e;
  }
  const res = errorResponse(caught);
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "POST");
  assert.equal((await res.json()).error.code, "method_not_allowed");
});

Deno.test("errorResponse() hides unknown errors behind 500 internal", async () => {
  const lines: string[] = [];
  const { setLogSink } = await import("../../../shared/log.ts");
  const prev = setLogSink((l) => lines.push(l));
  try {
    const res = errorResponse(new Error("secret stack detail"));
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /secret stack detail/);
    assert.equal(JSON.parse(text).error.code, "internal");
    assert.match(lines.join("\n"), /secret stack detail/);
  } finally {
    setLogSink(prev);
  }
});

const defaults = z.object({ dry_run: z.boolean().default(false) }).strict();

Deno.test("readJsonBody({ optional }) reads an empty body (whatever its type) and a GET as all defaults", async () => {
  const opts = { optional: true } as const;
  assert.deepEqual(await readJsonBody(post(""), defaults, 100, opts), { dry_run: false });
  assert.deepEqual(await readJsonBody(post(null, {}), defaults, 100, opts), { dry_run: false });
  assert.deepEqual(await readJsonBody(post("", { "content-type": "text/plain" }), defaults, 100, opts), {
    dry_run: false,
  });
  const get = new Request("http://x/", { method: "GET" });
  assert.deepEqual(await readJsonBody(get, defaults, 100, opts), { dry_run: false });
  assert.deepEqual(await readJsonBody(post('{"dry_run":true}'), defaults, 100, opts), { dry_run: true });
});

Deno.test("readJsonBody({ optional }) still refuses a non-JSON type, broken JSON and an oversized body", async () => {
  const opts = { optional: true } as const;
  const cases: ReadonlyArray<[Request, string]> = [
    [post('{"dry_run":true}', { "content-type": "text/plain" }), "unsupported_media_type"],
    [post("{"), "invalid_body"],
    [post(JSON.stringify({ pad: "x".repeat(200) })), "payload_too_large"],
  ];
  for (const [request, code] of cases) {
    await assert.rejects(
      readJsonBody(request, defaults, 100, opts),
      (e) => e instanceof AppError && e.code === code,
    );
  }
});

/** A stream of `count` chunks of `size` bytes that records how many it was asked for and whether it was cancelled. */
function chunkStream(count: number, size: number) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === count) return controller.close();
      seen.pulled++;
      controller.enqueue(new Uint8Array(size).fill(seen.pulled));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { stream, seen };
}

Deno.test("readBytesUpTo() joins every chunk in order when the stream fits, up to exactly the limit", async () => {
  const { stream } = chunkStream(3, 4);
  const bytes = await readBytesUpTo(stream, 12);
  assert.deepEqual(Array.from(bytes ?? []), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
});

Deno.test("readBytesUpTo() stops at the first chunk past the limit, cancels the stream and answers null", async () => {
  const { stream, seen } = chunkStream(1000, 1024);
  assert.equal(await readBytesUpTo(stream, 4096), null);
  assert.equal(seen.cancelled, true);
  assert.ok(seen.pulled <= 6, `read ${seen.pulled} chunks of a 1000-chunk stream`);
});

Deno.test("readBytesUpTo() reads no body as zero bytes", async () => {
  assert.deepEqual(await readBytesUpTo(null, 10), new Uint8Array(0));
});
