/**
 * Alert delivery: a Slack-compatible incoming webhook (`POST {text, blocks}` as JSON) with a timeout.
 * Implements the monitor's `AlertSink` port (shared/monitor/alert_sink.ts, where `noAlertSink` stands for
 * "ALERT_WEBHOOK_URL is not set").
 *
 * A webhook URL is a credential (Slack's carries the token in its path): it never appears in an error
 * message, and `redactInLogs` keeps it out of log lines.
 */
import { redactInLogs } from "../log.ts";
import type { AlertSink } from "../monitor/alert_sink.ts";

export interface WebhookOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Reads up to a few hundred bytes of an error body: enough to show Slack's `invalid_payload`, no more. */
async function bodyExcerpt(res: Response): Promise<string> {
  try {
    const text = (await res.text()).replace(/\s+/g, " ").trim();
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return "";
  }
}

/**
 * The monitor's `AlertSink` over a Slack-compatible webhook: one POST with a timeout. Never throws after boot
 * (a malformed URL throws at boot): a refused or failed delivery is a `DeliveryResult`, and the URL never appears
 * in its error.
 */
export function webhookAlertSink(url: string, opts: WebhookOptions = {}): AlertSink {
  const parsed = new URL(url); // throws at boot for a malformed URL, never per request
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw new Error("Cannot use ALERT_WEBHOOK_URL: it must be an http(s) URL");
  }
  redactInLogs(url);
  if (parsed.pathname.length >= 8) redactInLogs(parsed.pathname);
  const secretPath = parsed.pathname.length >= 8 ? parsed.pathname : null;
  const scrub = (s: string) => {
    const out = s.split(url).join("[webhook]");
    return secretPath ? out.split(secretPath).join("/[redacted]") : out;
  };
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const doFetch = opts.fetch ?? fetch;
  return {
    configured: true,
    async send(message) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(message),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const name = err instanceof Error ? err.name : "";
        if (name === "TimeoutError" || name === "AbortError") {
          return {
            ok: false,
            error: `Cannot deliver the alert: the webhook did not answer within ${timeoutMs} ms`,
          };
        }
        // Network errors can quote the URL; keep only the error class.
        return {
          ok: false,
          error: `Cannot deliver the alert: the webhook is unreachable (${name || "error"})`,
        };
      }
      if (res.ok) {
        await res.body?.cancel();
        return { ok: true, status: res.status };
      }
      // A proxy may echo the request line: never store the URL (or its secret path) in delivery_error.
      const excerpt = scrub(await bodyExcerpt(res));
      return {
        ok: false,
        error: `Cannot deliver the alert: the webhook answered ${res.status}${
          excerpt ? ` (${excerpt})` : ""
        }`,
      };
    },
  };
}
