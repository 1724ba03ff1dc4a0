/**
 * `performRequest()`, the pg_net worker's single HTTP call, against an in-process server: what gets recorded
 * for redirects, empty bodies, timeouts and out-of-range timeouts. Needs no stack.
 */
import assert from "node:assert/strict";
import { performRequest } from "../../../local/gateway/pg_net_worker.ts";

async function withServer(fn: (base: string) => Promise<void>): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    if (url.pathname === "/redirect") return Response.redirect(new URL("/target", url), 302);
    if (url.pathname === "/target") {
      return new Response("arrived", { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname === "/empty") return new Response(null, { status: 204 });
    if (url.pathname === "/slow") await new Promise((r) => setTimeout(r, 500));
    return Response.json({ ua: req.headers.get("user-agent"), body: await req.text() });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

const row = (url: string, timeout = 5000, method = "POST") => ({
  id: "1",
  method,
  url,
  headers: { "Content-Type": "application/json" },
  body: new TextEncoder().encode('{"a":1}'),
  timeout_milliseconds: timeout,
});

Deno.test("performRequest() sends the body once and records status, type and content", async () => {
  await withServer(async (base) => {
    const out = await performRequest(row(`${base}/echo`));
    assert.equal(out.status_code, 200);
    assert.match(out.content_type ?? "", /application\/json/);
    assert.deepEqual(JSON.parse(out.content ?? ""), { ua: "pg_net/0.20.0 (local stack)", body: '{"a":1}' });
    assert.equal(out.timed_out, false);
  });
});

Deno.test("performRequest() follows redirects and stores an empty body as NULL", async () => {
  await withServer(async (base) => {
    const redirected = await performRequest(row(`${base}/redirect`, 5000, "GET"));
    assert.equal(redirected.status_code, 200);
    assert.equal(redirected.content, "arrived");
    const empty = await performRequest(row(`${base}/empty`));
    assert.equal(empty.status_code, 204);
    assert.equal(empty.content, null);
  });
});

Deno.test("performRequest() records a timeout once, and refuses a timeout outside 1..3600000 ms", async () => {
  await withServer(async (base) => {
    const slow = await performRequest(row(`${base}/slow`, 100));
    assert.equal(slow.timed_out, true);
    assert.equal(slow.status_code, null);
    assert.match(slow.error_msg ?? "", /^Timeout of 100 ms reached/);
    for (const bad of [0, -1, 3_600_001]) {
      const refused = await performRequest(row(`${base}/echo`, bad));
      assert.equal(refused.status_code, null);
      assert.match(refused.error_msg ?? "", /timeout_milliseconds must be between 1 and 3600000/);
    }
  });
});
