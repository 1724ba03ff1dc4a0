/**
 * storage-health-monitor's settings, validated at boot:
 *   ALERT_WEBHOOK_URL         Slack-compatible incoming webhook (http/https); unset: alerts are recorded only
 *   ALERT_WEBHOOK_TIMEOUT_MS  per delivery, 100..30000 (default 5000)
 *   ALERT_ENVIRONMENT         a label in front of every message, e.g. "production" (optional)
 */
import { z } from "zod";
import { type EnvSource, schemaFromEnv } from "../env.ts";

const blankAsUndefined = z.string().optional().transform((s) => (s?.trim() ? s.trim() : undefined));

const monitorEnvSchema = z.object({
  ALERT_WEBHOOK_URL: blankAsUndefined.pipe(
    z.union([z.undefined(), z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })]),
  ),
  ALERT_WEBHOOK_TIMEOUT_MS: blankAsUndefined.pipe(
    z.union([
      z.undefined(),
      z.string().regex(/^\d+$/, "must be a whole number of ms").transform(Number)
        .pipe(z.number().int().min(100).max(30_000)),
    ]),
  ),
  ALERT_ENVIRONMENT: blankAsUndefined.pipe(z.union([z.undefined(), z.string().max(40)])),
});

export interface MonitorSettings {
  webhookUrl: string | null;
  webhookTimeoutMs: number;
  environment: string | undefined;
}

/**
 * Called at boot. Throws `Cannot start: invalid environment (…)` for a webhook URL that is not http(s), a
 * timeout outside 100..30000 ms or an environment label over 40 characters. Blank values count as unset:
 * no webhook (alerts are recorded only), 5000 ms, no label.
 */
export function monitorSettingsFromEnv(env: EnvSource): MonitorSettings {
  const e = schemaFromEnv(monitorEnvSchema, env);
  return {
    webhookUrl: e.ALERT_WEBHOOK_URL ?? null,
    webhookTimeoutMs: e.ALERT_WEBHOOK_TIMEOUT_MS ?? 5_000,
    environment: e.ALERT_ENVIRONMENT,
  };
}
