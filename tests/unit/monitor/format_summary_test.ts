import assert from "node:assert/strict";
import { formatSummary } from "../../../shared/monitor/format_summary.ts";
import type { MonitorSummary, RuleSummary } from "../../../shared/monitor/run_monitor.ts";

function rule(over: Partial<RuleSummary> & Pick<RuleSummary, "rule" | "title">): RuleSummary {
  return {
    state: "ok",
    value: 0,
    threshold: 0,
    unit: "count",
    severity: "warning",
    breached: false,
    sample: null,
    min_sample: 0,
    window_minutes: null,
    alert_id: null,
    firing_since: null,
    clearing_since: null,
    note: null,
    details: {},
    ...over,
  };
}

const SUMMARY: MonitorSummary = {
  checked_at: "2025-11-20T10:30:00.000Z",
  dry_run: false,
  status: "firing",
  firing: ["stuck_parsing"],
  health: {
    total_conversations: 1234,
    manual_review_count: 3,
    direct_parse_count: 1200,
    jsonrepair_count: 20,
    raw_storage_mb: 45.25,
    avg_parse_attempts: 1.0213,
  },
  pipeline: { status_counts: { completed: 1220, parse_failed: 3, parsing: 2 } },
  hourly: [{ hour: "2025-11-20T10:00:00Z", total: 50, direct: 48, failed: 1, mb_per_hour: 1.5 }],
  rules: [
    rule({
      rule: "manual_review_queue",
      title: "Manual review queue",
      value: 3,
      threshold: 10,
    }),
    rule({
      rule: "parse_failure_rate",
      title: "Parse failure rate",
      unit: "percent",
      value: 2.04,
      threshold: 10,
      sample: 49,
      min_sample: 5,
      window_minutes: 60,
    }),
    rule({
      rule: "stuck_parsing",
      title: "Stuck in parsing",
      state: "firing",
      value: 2,
      severity: "critical",
      breached: true,
      alert_id: "7",
      firing_since: "2025-11-20T10:05:00.000Z",
    }),
    rule({
      rule: "raw_orphans",
      title: "Raw orphans",
      state: "unavailable",
      value: null,
      note: "view public.raw_orphans is not installed",
    }),
  ],
  alerts: { opened: ["stuck_parsing"], escalated: [], resolved: [] },
  notifications: {
    webhook: "configured",
    delivered: 0,
    failed: 1,
    deferred: 0,
    not_configured: 0,
    pending: 1,
    errors: ["Cannot deliver the alert: the webhook answered 500"],
  },
  unknown_rules: [],
};

Deno.test("formatSummary() prints the status, the checklist numbers, one row per rule and the alerts", () => {
  const text = formatSummary(SUMMARY);
  const lines = text.split("\n");
  assert.equal(lines[0], "Pipeline health  2025-11-20 10:30 UTC  FIRING (1)");
  assert.match(text, /conversations 1,234 · in review 3 · direct 1,200 · jsonrepair 20 · raw 45\.3 MB/);
  assert.match(text, /by status: completed 1,220 · parse_failed 3 · parsing 2/);
  assert.match(text, /^ {2}FIRING +Stuck in parsing +2 +> 0 +since 2025-11-20 10:05 UTC \(25 min\)$/m);
  assert.match(text, /^ {2}ok +Parse failure rate +2 % +> 10 % +49 finished in the last 60 min$/m);
  assert.match(text, /^ {2}unavailable +Raw orphans +n\/a +> 0 +view public\.raw_orphans is not installed$/m);
  assert.match(text, /^ {2}2025-11-20 10:00 UTC +50 +48 +1 +1\.5$/m);
  assert.match(text, /Alerts: webhook configured; delivered 0, failed 1, pending 1/);
  assert.match(text, /open stuck_parsing/);
  assert.match(text, /the webhook answered 500/);
  assert.ok(!text.includes("\x1b["), "no colour codes unless asked");
});

Deno.test("formatSummary() aligns columns whatever the colours", () => {
  const plain = formatSummary(SUMMARY).split("\n");
  // deno-lint-ignore no-control-regex
  const coloured = formatSummary(SUMMARY, { color: true }).replace(/\x1b\[[0-9;]*m/g, "").split("\n");
  assert.deepEqual(coloured, plain);
});

Deno.test("formatSummary() of a dry run says nothing was recorded and what would change", () => {
  const text = formatSummary({ ...SUMMARY, dry_run: true });
  assert.match(text.split("\n")[0], /read only: nothing recorded, nothing sent/);
  assert.match(text, /would open stuck_parsing/);
  assert.match(text, /Alerts: 1 notice\(s\) waiting for delivery/);
});

Deno.test("formatSummary() reconciles the counts: outcomes add up to the total, every method, a legend", () => {
  const text = formatSummary({
    ...SUMMARY,
    pipeline: {
      status_counts: { completed: 1228, parse_failed: 3, generating: 2, generation_failed: 1 },
      outcomes: { direct: 1200, extracted: 5, jsonrepair: 20, manual: 3, in_review: 3, not_parsed: 3 },
    },
    hourly: [{
      hour: "2025-11-20T10:00:00Z",
      total: 50,
      direct: 44,
      extracted: 2,
      jsonrepair: 1,
      manual: 1,
      failed: 1,
      pending: 1,
      mb_per_hour: 1.5,
    }],
  });
  assert.match(
    text,
    /^ {2}= direct 1,200 \+ extracted 5 \+ jsonrepair 20 \+ manual 3 \+ in review 3 \+ not parsed yet 3$/m,
  );
  assert.match(text, /by status: .* \(1,234: every conversation of the 24 h/);
  assert.match(text, /HOUR +TOTAL +DIRECT +EXTRACTED +JSONREPAIR +MANUAL +FAILED +PENDING +RAW MB/);
  assert.match(text, /^ {2}2025-11-20 10:00 UTC +50 +44 +2 +1 +1 +1 +1 +1\.5$/m);
  assert.match(text, /How the counts relate:/);
});
