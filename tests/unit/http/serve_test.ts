import assert from "node:assert/strict";
import { serveHandler } from "../../../shared/http/serve.ts";
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

Deno.test("serveHandler() lets scripts read Server-Timing, Retry-After and Idempotent-Replayed", async () => {
  const res = await handler(new Request("http://x/", { method: "POST" }));
  assert.equal(res.status, 201);
  const exposed = (res.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
  assert.deepEqual(exposed.sort(), ["idempotent-replayed", "retry-after", "server-timing"]);
  assert.equal(res.headers.get("timing-allow-origin"), "*");
  assert.equal(res.headers.get("server-timing"), "db;dur=1.0");
});
