import assert from "node:assert/strict";
import { webhookAlertSink } from "../../../shared/adapters/webhook_alert_sink.ts";
import { startTestWebhook } from "./_test_webhook.ts";

const message = { text: "FIRING: Manual review queue is 14 (threshold 10)", blocks: [] };

Deno.test("webhookAlertSink() posts Slack-compatible JSON and reports success", async () => {
  const hook = startTestWebhook();
  try {
    const result = await webhookAlertSink(hook.url).send(message);
    assert.deepEqual(result, { ok: true, status: 200 });
    assert.deepEqual(hook.received, [message]);
  } finally {
    await hook.close();
  }
});

Deno.test("webhookAlertSink() reports a 500 with the answer's excerpt and never the URL", async () => {
  const hook = startTestWebhook();
  hook.mode = "error";
  try {
    const result = await webhookAlertSink(hook.url).send(message);
    assert.equal(result.ok, false);
    assert.equal(
      !result.ok && result.error,
      "Cannot deliver the alert: the webhook answered 500 (internal_error)",
    );
  } finally {
    await hook.close();
  }
});

Deno.test("webhookAlertSink() gives up after its timeout on a webhook that does not answer", async () => {
  const hook = startTestWebhook();
  hook.mode = "hang";
  try {
    const started = Date.now();
    const result = await webhookAlertSink(hook.url, { timeoutMs: 300 }).send(message);
    assert.ok(Date.now() - started < 3_000, "bounded by the timeout");
    assert.equal(
      !result.ok && result.error,
      "Cannot deliver the alert: the webhook did not answer within 300 ms",
    );
  } finally {
    await hook.close();
  }
});

Deno.test("webhookAlertSink() reports an unreachable webhook without quoting its secret path", async () => {
  const closed = startTestWebhook();
  const url = closed.url;
  await closed.close();
  const result = await webhookAlertSink(url, { timeoutMs: 2_000 }).send(message);
  assert.equal(result.ok, false);
  assert.match(!result.ok ? result.error : "", /^Cannot deliver the alert: the webhook is unreachable/);
  assert.doesNotMatch(!result.ok ? result.error : "", /test-webhook-secret/);
});
