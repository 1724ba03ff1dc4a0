import assert from "node:assert/strict";
import { formatNotice, type PendingNotice } from "../../../shared/monitor/format_notice.ts";

const FIRED_AT = new Date("2025-11-20T10:00:00Z");

function notice(over: Partial<PendingNotice> = {}): PendingNotice {
  return {
    alertId: "1",
    rule: "parse_failure_rate",
    severity: "warning",
    notice: "fired",
    noticeSeq: 1,
    noticeValue: 14.29,
    peakValue: 14.29,
    threshold: 10,
    firedAt: FIRED_AT,
    resolvedAt: null,
    noticeQueuedAt: FIRED_AT,
    deliveryAttempts: 0,
    details: {},
    ...over,
  };
}

Deno.test("formatNotice() fired: value, threshold and the checklist's action in the text", () => {
  const m = formatNotice(notice(), { environment: "production", now: FIRED_AT });
  assert.equal(
    m.text,
    "🟠 [production] FIRING: Parse failure rate is 14.3 % (threshold 10 %). Firing since 2025-11-20 10:00 UTC. " +
      "Action: Investigate prompt/schema issues (see parse_error_patterns).",
  );
  assert.equal(m.blocks?.[0].type, "header");
});

Deno.test("formatNotice() critical alerts get the red marker", () => {
  const m = formatNotice(
    notice({ rule: "stuck_parsing", severity: "critical", noticeValue: 3, threshold: 0 }),
    {
      now: FIRED_AT,
    },
  );
  assert.match(m.text, /^🔴 FIRING: Stuck in parsing is 3 \(threshold 0\)/);
});

Deno.test("formatNotice() worse and resolved carry the time line and the peak", () => {
  const later = new Date(FIRED_AT.getTime() + 95 * 60_000);
  const worse = formatNotice(notice({ notice: "worse", noticeValue: 30, peakValue: 30 }), { now: later });
  assert.match(
    worse.text,
    /^🔺 WORSE: Parse failure rate is 30 % \(threshold 10 %\)\. Firing since 2025-11-20 10:00 UTC \(1 h 35 min\); peak so far 30 %/,
  );
  const resolved = formatNotice(
    notice({ notice: "resolved", noticeValue: 2, peakValue: 30, resolvedAt: later, noticeQueuedAt: later }),
    { now: later },
  );
  assert.equal(
    resolved.text,
    "✅ RESOLVED: Parse failure rate is 2 % (threshold 10 %). Fired 2025-11-20 10:00 UTC, resolved " +
      "2025-11-20 11:35 UTC after 1 h 35 min; peak 30 %.",
  );
});

Deno.test("formatNotice() escapes Slack control characters and bounds the details", () => {
  const m = formatNotice(
    notice({ details: { top_errors: [{ message: "<script>&" + "x".repeat(5_000), count: 2 }], empty: [] } }),
    { now: FIRED_AT },
  );
  const details = m.blocks?.find((b) => b.type === "section" && b.text.text.startsWith("• "));
  assert.ok(details && details.type === "section");
  assert.match(details.text.text, /^• top errors: \[\{"message":"&lt;script&gt;&amp;x/);
  assert.ok(details.text.text.length < 3_000, "under Slack's 3000-character section limit");
  assert.doesNotMatch(details.text.text, /empty/, "empty details are left out");
});

Deno.test("formatNotice() notes a late delivery", () => {
  const m = formatNotice(notice({ deliveryAttempts: 2 }), { now: FIRED_AT });
  assert.match(m.text, /delivered late \(attempt 3, queued 2025-11-20 10:00 UTC\)/);
});
