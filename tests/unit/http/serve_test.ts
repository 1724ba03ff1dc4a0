import assert from "node:assert/strict";
import { requestIdOf, serveHandler } from "../../../shared/http/serve.ts";
import { parseServerTiming } from "../../../shared/http/server_timing.ts";
import { appError } from "../../../shared/errors.ts";
import { json } from "../../../shared/http/respond.ts";

const handler = serveHandler(() =>
  Promise.resolve(json({ ok: true }, 201, { "server-timing": "db;dur=1.0" }))
);

Deno.test("serveHandler() answers a browser's preflight for the headers generate-conversation reads", async () => {
  const res = await handler(new Request("http://x/", { method: "OPTIONS" }));
  assert.equal(res.status, 204);
  const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(/,\s*/);
  for (const h of ["authorization", "content-type", "idempotency-key", "x-user-id", "prefer"]) {
    assert.ok(allowed.includes(h), `preflight allows ${h}`);
  }
});

Deno.test("serveHandler() lets scripts read Server-Timing, Retry-After, Idempotent-Replayed and the request id", async () => {
  const res = await handler(new Request("http://x/", { method: "POST" }));
  assert.equal(res.status, 201);
  const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
  assert.deepEqual(exposed.sort(), ["idempotent-replayed", "retry-after", "server-timing", "x-request-id"]);
  assert.equal(res.headers.get("timing-allow-origin"), "*");
  assert.equal(res.headers.get("server-timing"), "db;dur=1.0");
});

Deno.test("serveHandler() maps a thrown error once, with the handler's timed phases and the request id", async () => {
  let t = 0;
  const served = serveHandler(
    async (_req, ctx) => {
      await ctx.timer.time("db", () => Promise.resolve(t += 4));
      throw appError("not_found", "Cannot find it");
    },
    "test",
    { monotonic: () => t },
  );
  const res = await served(
    new Request("http://x/", { method: "POST", headers: { "x-request-id": "req-42" } }),
  );
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: { code: "not_found", message: "Cannot find it" } });
  assert.equal(res.headers.get("x-request-id"), "req-42", "the caller's id is echoed");
  assert.deepEqual(parseServerTiming(res.headers.get("server-timing")), { db: 4, total: 4 });
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
});

Deno.test("serveHandler() gives every request an id, replacing one that is unsafe to echo", async () => {
  const served = serveHandler((_req, ctx) => Promise.resolve(json({ id: ctx.requestId })));
  const a = await served(new Request("http://x/"));
  const b = await served(new Request("http://x/", { headers: { "x-request-id": "bad id\twith spaces" } }));
  for (const res of [a, b]) {
    const id = res.headers.get("x-request-id") ?? "";
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.equal((await res.json()).id, id, "the handler sees the id the response carries");
  }
  assert.notEqual(a.headers.get("x-request-id"), b.headers.get("x-request-id"));
  assert.match(requestIdOf(new Request("http://x/", { headers: { "sb-request-id": "sb-1" } })), /^sb-1$/);
});
