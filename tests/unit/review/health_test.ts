/** readReviewHealth(): the monitor's dry run, alerts and source counts in one answer, series oldest first. */
import assert from "node:assert/strict";
import { fixedClock } from "../../../shared/pipeline/clock.ts";
import { setLogSink } from "../../../shared/log.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import { type AlertView, readReviewHealth } from "../../../shared/review/health.ts";
import { FakeMonitorStore } from "../monitor/_fake_monitor_store.ts";

setLogSink(() => {});

const NOW = new Date("2025-12-09T10:00:00.000Z");

function store(queue: number): FakeMonitorStore {
  const s = new FakeMonitorStore(
    RULE_KEYS.map((rule) => ({
      rule,
      value: rule === "manual_review_queue" ? queue : 0,
      sample: null,
      details: {},
      unavailableReason: null,
    })),
    RULE_KEYS.map((rule) => ({
      rule,
      threshold: rule === "manual_review_queue" ? 10 : 1,
      windowMinutes: null,
      minSample: 0,
      cooldownMinutes: 30,
      worseFactor: 1.5,
      clearAfterMinutes: 4,
      severity: "warning" as const,
      enabled: true,
    })),
  );
  s.overview = {
    rawStorageHealth: { total_conversations: 3 },
    statusCounts: { completed: 2, parse_failed: 1 },
    hourly: [
      { hour: "2025-12-09T09:00:00Z", total: 2, direct: 1, failed: 1, mbPerHour: 0.01 },
      { hour: "2025-12-09T08:00:00Z", total: 1, direct: 1, failed: 0, mbPerHour: 0 },
    ],
  };
  return s;
}

const PAST: AlertView = {
  id: "1",
  rule: "manual_review_queue",
  severity: "warning",
  fired_at: "2025-12-08T10:00:00.000000Z",
  resolved_at: "2025-12-08T11:00:00.000000Z",
  value: 0,
  peak_value: 12,
  threshold: 10,
  notice: "resolved",
  delivered_at: null,
  delivery_error: "ALERT_WEBHOOK_URL is not set",
};

Deno.test("readReviewHealth() answers the rules with state and threshold, without opening an alert", async () => {
  const monitor = store(12);
  let asked = 0;
  const health = await readReviewHealth({
    monitor,
    clock: fixedClock(NOW),
    reader: {
      alerts: (limit) => {
        asked = limit;
        return Promise.resolve({ open: [], past: [PAST] });
      },
      sourceCounts: () =>
        Promise.resolve([{ source: "generated", status: "parse_failed", count: 1, in_review: 1 }]),
    },
  });
  const queue = health.rules.find((r) => r.rule === "manual_review_queue");
  assert.equal(queue?.state, "firing");
  assert.equal(queue?.threshold, 10);
  assert.equal(queue?.value, 12);
  assert.equal(health.status, "firing");
  assert.equal(monitor.alerts.length, 0, "a dry run records nothing");
  assert.equal(asked, 20);
  assert.deepEqual(health.alerts.past, [PAST]);
  assert.deepEqual(health.status_counts, { completed: 2, parse_failed: 1 });
  assert.deepEqual(health.hourly.map((h) => h.hour), ["2025-12-09T08:00:00Z", "2025-12-09T09:00:00Z"]);
  assert.equal(health.source_counts[0].in_review, 1);
  assert.equal(health.checked_at, NOW.toISOString());
});
