import assert from "node:assert/strict";
import { fixedClock } from "../../../shared/pipeline/clock.ts";
import { type AlertSink, noAlertSink, WEBHOOK_NOT_CONFIGURED } from "../../../shared/monitor/alert_sink.ts";
import { setLogSink } from "../../../shared/log.ts";
import type { RuleThreshold, RuleValue } from "../../../shared/monitor/evaluate_rules.ts";
import type { SlackMessage } from "../../../shared/monitor/format_notice.ts";
import { runMonitor } from "../../../shared/monitor/run_monitor.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import { FakeMonitorStore } from "./_fake_monitor_store.ts";

const T0 = new Date("2025-11-20T10:00:00Z");
const at = (min: number) => fixedClock(new Date(T0.getTime() + min * 60_000));

function fixtures(): { values: RuleValue[]; thresholds: RuleThreshold[] } {
  return {
    values: RULE_KEYS.map((rule) => ({ rule, value: 0, sample: null, details: {}, unavailableReason: null })),
    thresholds: RULE_KEYS.map((rule) => ({
      rule,
      threshold: rule === "manual_review_queue" ? 10 : 0,
      windowMinutes: null,
      minSample: 0,
      cooldownMinutes: 30,
      worseFactor: 1.5,
      clearAfterMinutes: 4,
      severity: "warning" as const,
      enabled: true,
    })),
  };
}

/** A webhook stand-in: records messages, or fails with the given error while `down` is set. */
class RecordingSink implements AlertSink {
  readonly configured = true;
  messages: SlackMessage[] = [];
  down: string | null = null;
  send(message: SlackMessage) {
    if (this.down) return Promise.resolve({ ok: false as const, error: this.down });
    this.messages.push(message);
    return Promise.resolve({ ok: true as const, status: 200 });
  }
}

function quietLogs(): () => void {
  const prev = setLogSink(() => {});
  return () => setLogSink(prev);
}

Deno.test("runMonitor() fires, stays quiet while firing, escalates when worse and sends a resolved notice", async () => {
  const restore = quietLogs();
  try {
    const { values, thresholds } = fixtures();
    const store = new FakeMonitorStore(values, thresholds);
    const sink = new RecordingSink();

    store.setValue("manual_review_queue", 14);
    let s = await runMonitor({ store, sink, clock: at(0), environment: "prod" }, { dryRun: false });
    assert.equal(s.status, "firing");
    assert.deepEqual(s.alerts.opened, ["manual_review_queue"]);
    assert.equal(s.notifications.delivered, 1);
    assert.match(sink.messages[0].text, /^🟠 \[prod\] FIRING: Manual review queue is 14 \(threshold 10\)/);

    s = await runMonitor({ store, sink, clock: at(5) }, { dryRun: false });
    assert.equal(s.notifications.delivered, 0, "no repeat while firing and not worse");
    assert.equal(sink.messages.length, 1);

    store.setValue("manual_review_queue", 30);
    s = await runMonitor({ store, sink, clock: at(10) }, { dryRun: false });
    assert.deepEqual(s.alerts.escalated, [], "worse, but inside the 30-minute cooldown");
    s = await runMonitor({ store, sink, clock: at(31) }, { dryRun: false });
    assert.deepEqual(s.alerts.escalated, ["manual_review_queue"]);
    assert.match(sink.messages[1].text, /WORSE: Manual review queue is 30/);

    store.setValue("manual_review_queue", 2);
    s = await runMonitor({ store, sink, clock: at(35) }, { dryRun: false });
    assert.equal(s.rules[0].state, "firing", "clearing, not yet resolved");
    s = await runMonitor({ store, sink, clock: at(40) }, { dryRun: false });
    assert.equal(s.status, "ok");
    assert.deepEqual(s.alerts.resolved, ["manual_review_queue"]);
    assert.match(sink.messages[2].text, /RESOLVED: Manual review queue is 2 \(threshold 10\)/);
    assert.match(sink.messages[2].text, /peak 30/);
    assert.equal(sink.messages.length, 3);
    assert.equal(store.alerts.length, 1, "one incident, one row");
    assert.ok(store.alerts[0].resolvedAt);
  } finally {
    restore();
  }
});

Deno.test("runMonitor() survives a webhook that is down and delivers next run", async () => {
  const restore = quietLogs();
  try {
    const { values, thresholds } = fixtures();
    const store = new FakeMonitorStore(values, thresholds);
    const sink = new RecordingSink();
    sink.down = "Cannot deliver the alert: the webhook answered 500";
    store.setValue("stuck_parsing", 2);
    store.setValue("raw_orphans", 1);

    const s = await runMonitor({ store, sink, clock: at(0) }, { dryRun: false });
    assert.deepEqual(s.alerts.opened, ["stuck_parsing", "raw_orphans"]);
    assert.equal(s.notifications.failed, 1);
    assert.equal(s.notifications.deferred, 1, "after one failure the rest wait for the next run");
    assert.equal(s.notifications.pending, 2);
    assert.deepEqual(store.alerts.map((a) => [a.deliveryAttempts, a.deliveryError]), [
      [1, sink.down],
      [0, sink.down],
    ]);

    sink.down = null;
    const next = await runMonitor({ store, sink, clock: at(5) }, { dryRun: false });
    assert.equal(next.notifications.delivered, 2);
    assert.equal(next.notifications.pending, 0);
    assert.deepEqual(sink.messages.map((m) => m.text.split(":")[0]), ["🟠 FIRING", "🟠 FIRING"]);
    assert.match(sink.messages[0].text, /delivered late \(attempt 2/);
    assert.ok(store.alerts.every((a) => a.deliveredAt && a.deliveryError === null));
  } finally {
    restore();
  }
});

Deno.test("runMonitor() without a webhook records alerts as undelivered with the reason", async () => {
  const restore = quietLogs();
  try {
    const { values, thresholds } = fixtures();
    const store = new FakeMonitorStore(values, thresholds);
    store.setValue("spooled_raw_waiting", 3);
    const s = await runMonitor({ store, sink: noAlertSink(), clock: at(0) }, { dryRun: false });
    assert.equal(s.notifications.webhook, "not_configured");
    assert.equal(s.notifications.not_configured, 1);
    assert.equal(store.alerts.length, 1);
    assert.equal(store.alerts[0].deliveredAt, null);
    assert.equal(store.alerts[0].deliveryError, WEBHOOK_NOT_CONFIGURED);
    assert.equal(store.alerts[0].deliveryAttempts, 0, "nothing was attempted");
  } finally {
    restore();
  }
});

Deno.test("runMonitor() replaces an undelivered notice: a quick resolve sends one resolved notice", async () => {
  const restore = quietLogs();
  try {
    const { values, thresholds } = fixtures();
    thresholds[0].clearAfterMinutes = 0;
    const store = new FakeMonitorStore(values, thresholds);
    const sink = new RecordingSink();
    sink.down = "Cannot deliver the alert: the webhook did not answer within 5000 ms";
    store.setValue("manual_review_queue", 12);
    await runMonitor({ store, sink, clock: at(0) }, { dryRun: false });
    store.setValue("manual_review_queue", 3);
    sink.down = null;
    const s = await runMonitor({ store, sink, clock: at(5) }, { dryRun: false });
    assert.deepEqual(s.alerts.resolved, ["manual_review_queue"]);
    assert.equal(sink.messages.length, 1);
    assert.match(
      sink.messages[0].text,
      /RESOLVED: .*Fired 2025-11-20 10:00 UTC, resolved 2025-11-20 10:05 UTC/,
    );
  } finally {
    restore();
  }
});

Deno.test("runMonitor() in a dry run writes nothing and sends nothing, but says what would fire", async () => {
  const restore = quietLogs();
  try {
    const { values, thresholds } = fixtures();
    const store = new FakeMonitorStore(values, thresholds);
    const sink = new RecordingSink();
    store.setValue("stuck_generating", 4);
    const s = await runMonitor({ store, sink, clock: at(0) }, { dryRun: true });
    assert.equal(s.dry_run, true);
    assert.equal(s.status, "firing");
    assert.deepEqual(s.alerts.opened, ["stuck_generating"]);
    assert.equal(store.alerts.length, 0);
    assert.equal(sink.messages.length, 0);
  } finally {
    restore();
  }
});
