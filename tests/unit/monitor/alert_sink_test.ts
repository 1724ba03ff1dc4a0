import assert from "node:assert/strict";
import { noAlertSink, WEBHOOK_NOT_CONFIGURED } from "../../../shared/monitor/alert_sink.ts";

Deno.test("noAlertSink() sends nothing and reports why, so the alert is recorded as undelivered", async () => {
  const sink = noAlertSink();
  assert.equal(sink.configured, false);
  assert.deepEqual(await sink.send({ text: "x", blocks: [] }), { ok: false, error: WEBHOOK_NOT_CONFIGURED });
});
