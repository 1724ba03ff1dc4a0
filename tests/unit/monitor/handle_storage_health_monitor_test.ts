import assert from "node:assert/strict";
import { noAlertSink } from "../../../shared/monitor/alert_sink.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import { setLogSink } from "../../../shared/log.ts";
import { handleStorageHealthMonitor } from "../../../shared/monitor/handle_storage_health_monitor.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import { FakeMonitorStore } from "./_fake_monitor_store.ts";

const KEY = "service-key-for-monitor-tests-0000";

function setup() {
  const store = new FakeMonitorStore(
    RULE_KEYS.map((rule) => ({ rule, value: 0, sample: null, details: {}, unavailableReason: null })),
    RULE_KEYS.map((rule) => ({
      rule,
      threshold: 0,
      windowMinutes: null,
      minSample: 0,
      cooldownMinutes: 30,
      worseFactor: 1.5,
      clearAfterMinutes: 0,
      severity: "warning" as const,
      enabled: true,
    })),
  );
  store.setValue("stuck_raw_stored", 2);
  const handler = serveHandler(
    handleStorageHealthMonitor({ store, sink: noAlertSink(), serviceKeys: [KEY] }),
    "storage-health-monitor",
  );
  return { store, handler };
}

/** Deno.test with the log sink silenced (a run logs its alert changes). */
function quietTest(name: string, fn: () => Promise<void>): void {
  Deno.test(name, async () => {
    const prev = setLogSink(() => {});
    try {
      await fn();
    } finally {
      setLogSink(prev);
    }
  });
}

function call(init: RequestInit & { key?: string | null } = {}): Request {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("authorization", `Bearer ${init.key ?? KEY}`);
  // A string body would otherwise go out as text/plain (what fetch does); pg_net sends application/json.
  if (init.body && !headers.has("content-type")) headers.set("content-type", "application/json");
  return new Request("http://localhost/functions/v1/storage-health-monitor", {
    method: "POST",
    ...init,
    headers,
  });
}

const refusals: ReadonlyArray<[string, RequestInit & { key?: string | null }, number, string]> = [
  ["no authorization header", { key: null, body: "{}" }, 401, "unauthorized"],
  ["an anon or user token", { key: "eyJhbGciOi.not-the-service-key.x", body: "{}" }, 403, "forbidden"],
  ["a PUT", { method: "PUT", body: "{}" }, 405, "method_not_allowed"],
  ["an unknown body field", { body: '{"dryrun": true}' }, 400, "invalid_body"],
  ["dry_run that is not a boolean", { body: '{"dry_run": "yes"}' }, 400, "invalid_body"],
  ["broken JSON", { body: "{" }, 400, "invalid_body"],
  [
    "a text/plain body",
    { body: "hello", headers: { "content-type": "text/plain" } },
    415,
    "unsupported_media_type",
  ],
];

for (const [name, init, status, code] of refusals) {
  quietTest(
    `handleStorageHealthMonitor() refuses ${name} with ${status} ${code} and writes nothing`,
    async () => {
      const { store, handler } = setup();
      const res = await handler(call(init));
      assert.equal(res.status, status);
      const body = await res.json();
      assert.equal(body.error.code, code);
      assert.equal(typeof body.error.message, "string");
      assert.equal(store.alerts.length, 0);
    },
  );
}

quietTest(
  "handleStorageHealthMonitor() answers a cron POST {} with the summary and records the alert",
  async () => {
    const { store, handler } = setup();
    const res = await handler(call({ body: "{}", headers: { "content-type": "application/json" } }));
    assert.equal(res.status, 200);
    const s = await res.json();
    assert.equal(s.status, "firing");
    assert.deepEqual(s.firing, ["stuck_raw_stored"]);
    assert.equal(s.rules.length, RULE_KEYS.length);
    const rule = s.rules.find((r: { rule: string }) => r.rule === "stuck_raw_stored");
    assert.deepEqual([rule.state, rule.value, rule.threshold], ["firing", 2, 0]);
    assert.equal(s.notifications.webhook, "not_configured");
    assert.equal(store.alerts.length, 1);
  },
);

quietTest(
  "handleStorageHealthMonitor() treats GET, an empty body and dry_run: true as read-only",
  async () => {
    const { store, handler } = setup();
    for (const init of [{ method: "GET" }, { body: '{"dry_run": true}' }] as RequestInit[]) {
      const res = await handler(call(init));
      assert.equal(res.status, 200);
      const s = await res.json();
      assert.equal(s.dry_run, true);
      assert.deepEqual(s.alerts.opened, ["stuck_raw_stored"], "says what it would open");
    }
    assert.equal(store.alerts.length, 0);
    const empty = await handler(call({}));
    assert.equal(empty.status, 200, "no body at all means defaults (a real run)");
    assert.equal((await empty.json()).dry_run, false);
  },
);

quietTest("handleStorageHealthMonitor() accepts the key as the apikey header too", async () => {
  const { handler } = setup();
  const res = await handler(call({ key: null, method: "GET", headers: { apikey: KEY } }));
  assert.equal(res.status, 200);
});
