/**
 * local/health_summary.ts `fetchHealthSummary()`: asks the deployed function for a dry run with the key given
 * and returns its summary; a failing function is an error naming its status. (`readHealthSummary()` runs
 * against the database: tests/integration/monitor/health_cli_test.ts.)
 */
import assert from "node:assert/strict";
import { fetchHealthSummary } from "../../../local/health_summary.ts";

async function withServer(
  handler: (req: Request) => Response | Promise<Response>,
  fn: (url: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    await server.shutdown();
  }
}

Deno.test("fetchHealthSummary() POSTs {dry_run: true} with the key to storage-health-monitor", async () => {
  const seen: { path: string; auth: string | null; body: unknown }[] = [];
  await withServer(async (req) => {
    seen.push({
      path: new URL(req.url).pathname,
      auth: req.headers.get("authorization"),
      body: await req.json(),
    });
    return Response.json({ status: "ok", rules: [] });
  }, async (url) => {
    const summary = await fetchHealthSummary(url, "svc-key");
    assert.deepEqual(summary, { status: "ok", rules: [] });
  });
  assert.deepEqual(seen, [{
    path: "/functions/v1/storage-health-monitor",
    auth: "Bearer svc-key",
    body: { dry_run: true },
  }]);
});

Deno.test("fetchHealthSummary() throws with the function's status and body when it fails", async () => {
  await withServer(() => new Response('{"error":{"code":"internal"}}', { status: 503 }), async (url) => {
    await assert.rejects(fetchHealthSummary(url, "k"), /storage-health-monitor answered 503 \{"error"/);
  });
});
