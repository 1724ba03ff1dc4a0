/**
 * The monitor's alert port: the monitor owns this contract; shared/adapters/webhook_alert_sink.ts delivers
 * through a Slack-compatible webhook and turns every HTTP or network failure into a `DeliveryResult` value.
 * `noAlertSink` is the domain's own stand-in for "no webhook configured".
 */
import type { SlackMessage } from "./format_notice.ts";

/** What one delivery attempt did; the monitor records it on the alert row (never throws). */
export type DeliveryResult =
  | { ok: true; status: number }
  | { ok: false; error: string };

/** Where the monitor sends its notices; the webhook adapter implements it, tests pass fakes. */
export interface AlertSink {
  /** False when no webhook is configured: nothing is sent, and that is the recorded reason. */
  readonly configured: boolean;
  send(message: SlackMessage): Promise<DeliveryResult>;
}

/** The reason recorded on an alert when no webhook is configured (the alert is kept, marked undelivered). */
export const WEBHOOK_NOT_CONFIGURED = "ALERT_WEBHOOK_URL is not set: the alert is recorded, not delivered";

/** The sink for "ALERT_WEBHOOK_URL is not set": sends nothing, reports `WEBHOOK_NOT_CONFIGURED`. */
export function noAlertSink(): AlertSink {
  return {
    configured: false,
    send: () => Promise.resolve({ ok: false, error: WEBHOOK_NOT_CONFIGURED }),
  };
}
