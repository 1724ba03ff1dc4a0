import assert from "node:assert/strict";
import { monitorSettingsFromEnv } from "../../../shared/monitor/monitor_env.ts";

const env = (vars: Record<string, string | undefined>) => ({ get: (k: string) => vars[k] });

Deno.test("monitorSettingsFromEnv() defaults: no webhook, 5 s timeout, no label", () => {
  assert.deepEqual(monitorSettingsFromEnv(env({})), {
    webhookUrl: null,
    webhookTimeoutMs: 5000,
    environment: undefined,
  });
  assert.equal(
    monitorSettingsFromEnv(env({ ALERT_WEBHOOK_URL: "  " })).webhookUrl,
    null,
    "blank means unset",
  );
});

Deno.test("monitorSettingsFromEnv() reads the webhook, timeout and label", () => {
  assert.deepEqual(
    monitorSettingsFromEnv(env({
      ALERT_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B0/XYZ",
      ALERT_WEBHOOK_TIMEOUT_MS: "2500",
      ALERT_ENVIRONMENT: "production",
    })),
    {
      webhookUrl: "https://hooks.slack.com/services/T0/B0/XYZ",
      webhookTimeoutMs: 2500,
      environment: "production",
    },
  );
});

Deno.test("monitorSettingsFromEnv() fails at boot on a bad URL or timeout, without echoing the URL", () => {
  for (
    const vars of [
      { ALERT_WEBHOOK_URL: "hooks.slack.com/services/secret-token" },
      { ALERT_WEBHOOK_URL: "ftp://example.com/secret-token" },
      { ALERT_WEBHOOK_TIMEOUT_MS: "5s" },
      { ALERT_WEBHOOK_TIMEOUT_MS: "60000" },
    ]
  ) {
    assert.throws(() => monitorSettingsFromEnv(env(vars)), (err: Error) => {
      assert.match(err.message, /Cannot start: invalid environment/);
      assert.doesNotMatch(err.message, /secret-token/);
      return true;
    });
  }
});
