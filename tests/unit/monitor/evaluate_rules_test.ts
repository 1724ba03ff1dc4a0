import assert from "node:assert/strict";
import {
  type AlertAction,
  evaluateRules,
  isWorse,
  type OpenAlert,
  type RuleThreshold,
  type RuleValue,
} from "../../../shared/monitor/evaluate_rules.ts";
import { RULE_KEYS, type RuleKey } from "../../../shared/monitor/rules.ts";

const T0 = new Date("2025-11-20T10:00:00Z");
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);

/** The seeded thresholds (supabase/migrations/20251120000000_create_alert_tables.sql). */
const SEEDED: Record<RuleKey, Partial<RuleThreshold> & { threshold: number }> = {
  manual_review_queue: { threshold: 10 },
  parse_failure_rate: { threshold: 10, windowMinutes: 60, minSample: 5 },
  raw_storage_growth: { threshold: 1024 },
  claude_failure_rate: { threshold: 10, windowMinutes: 60, minSample: 5, severity: "critical" },
  stuck_generating: { threshold: 0, windowMinutes: 10, severity: "critical" },
  stuck_raw_stored: { threshold: 0, windowMinutes: 10, severity: "critical" },
  stuck_parsing: { threshold: 0, windowMinutes: 10, severity: "critical" },
  stuck_raw_spooled: { threshold: 0, windowMinutes: 10, severity: "critical" },
  spooled_raw_waiting: { threshold: 0 },
  raw_orphans: { threshold: 0 },
  upload_review_queue_per_user: { threshold: 10 },
  failures_by_user: { threshold: 50, windowMinutes: 60, minSample: 10 },
  answers_lost: { threshold: 0, windowMinutes: 1440, severity: "critical" },
  batch_overdue: { threshold: 0, windowMinutes: 60 },
  batch_results_uncollected: { threshold: 0, windowMinutes: 30, severity: "critical" },
  batch_results_missing: { threshold: 0, windowMinutes: 1440, severity: "critical" },
};

function thresholds(overrides: Partial<Record<RuleKey, Partial<RuleThreshold>>> = {}): RuleThreshold[] {
  return RULE_KEYS.map((rule) => ({
    rule,
    windowMinutes: null,
    minSample: 0,
    cooldownMinutes: 30,
    worseFactor: 1.5,
    clearAfterMinutes: 4,
    severity: "warning" as const,
    enabled: true,
    ...SEEDED[rule],
    ...overrides[rule],
  }));
}

/** Every rule at zero (healthy), with overrides. */
function values(overrides: Partial<Record<RuleKey, Partial<RuleValue>>> = {}): RuleValue[] {
  return RULE_KEYS.map((rule) => ({
    rule,
    value: 0,
    sample: rule.endsWith("_rate") ? 100 : null,
    details: {},
    unavailableReason: null,
    ...overrides[rule],
  }));
}

function openAlert(rule: RuleKey, fields: Partial<OpenAlert> = {}): OpenAlert {
  return {
    id: `a-${rule}`,
    rule,
    firedAt: T0,
    value: 0,
    peakValue: 0,
    threshold: SEEDED[rule].threshold,
    notice: "fired",
    noticeValue: 0,
    noticeQueuedAt: T0,
    deliveredAt: T0,
    clearingSince: null,
    ...fields,
  };
}

function actionFor(actions: AlertAction[], rule: RuleKey): AlertAction | undefined {
  return actions.find((a) => a.rule === rule);
}

// Each rule, on a value just over and just at its seeded threshold (`>` is the comparison everywhere).
const firingCases: ReadonlyArray<[RuleKey, number, number]> = [
  ["manual_review_queue", 11, 10],
  ["parse_failure_rate", 10.5, 10],
  ["raw_storage_growth", 1024.5, 1024],
  ["claude_failure_rate", 25, 10],
  ["stuck_generating", 1, 0],
  ["stuck_raw_stored", 3, 0],
  ["stuck_parsing", 1, 0],
  ["stuck_raw_spooled", 2, 0],
  ["spooled_raw_waiting", 1, 0],
  ["raw_orphans", 4, 0],
];

for (const [rule, over, at] of firingCases) {
  Deno.test(`evaluateRules() opens a ${rule} alert over its threshold and not at it`, () => {
    const fired = evaluateRules({
      values: values({ [rule]: { value: over } }),
      thresholds: thresholds(),
      openAlerts: [],
      now: T0,
    });
    const status = fired.rules.find((r) => r.rule === rule)!;
    assert.equal(status.state, "firing");
    assert.deepEqual(fired.actions.map((a) => [a.kind, a.rule]), [["open", rule]]);
    assert.equal(fired.rules.filter((r) => r.state === "firing").length, 1, "only this rule fires");

    const atThreshold = evaluateRules({
      values: values({ [rule]: { value: at } }),
      thresholds: thresholds(),
      openAlerts: [],
      now: T0,
    });
    assert.equal(atThreshold.rules.find((r) => r.rule === rule)!.state, "ok");
    assert.deepEqual(atThreshold.actions, []);
  });

  Deno.test(`evaluateRules() resolves a ${rule} alert once it has stayed clear for clear_after_minutes`, () => {
    const alert = openAlert(rule, { value: over, noticeValue: over, peakValue: over });
    const firstClear = evaluateRules({
      values: values({ [rule]: { value: at } }),
      thresholds: thresholds(),
      openAlerts: [alert],
      now: minutes(5),
    });
    assert.equal(firstClear.rules.find((r) => r.rule === rule)!.state, "firing", "still open while clearing");
    const track = actionFor(firstClear.actions, rule);
    assert.equal(track?.kind, "track");
    assert.equal(track?.kind === "track" && track.clearing, true);

    const secondClear = evaluateRules({
      values: values({ [rule]: { value: at } }),
      thresholds: thresholds(),
      openAlerts: [{ ...alert, clearingSince: minutes(5) }],
      now: minutes(10),
    });
    assert.equal(secondClear.rules.find((r) => r.rule === rule)!.state, "ok");
    assert.deepEqual(secondClear.actions.map((a) => [a.kind, a.rule]), [["resolve", rule]]);
  });
}

Deno.test("evaluateRules() with clear_after_minutes = 0 resolves on the first clear run", () => {
  const result = evaluateRules({
    values: values(),
    thresholds: thresholds({ manual_review_queue: { clearAfterMinutes: 0 } }),
    openAlerts: [openAlert("manual_review_queue", { value: 12, noticeValue: 12 })],
    now: minutes(5),
  });
  assert.deepEqual(result.actions.map((a) => a.kind), ["resolve"]);
});

Deno.test("evaluateRules() keeps one alert open while a value flaps around its threshold", () => {
  const alert = openAlert("manual_review_queue", { value: 11, noticeValue: 11, clearingSince: minutes(5) });
  const result = evaluateRules({
    values: values({ manual_review_queue: { value: 11 } }),
    thresholds: thresholds(),
    openAlerts: [alert],
    now: minutes(8),
  });
  const action = actionFor(result.actions, "manual_review_queue");
  assert.equal(action?.kind, "track");
  assert.equal(action?.kind === "track" && action.clearing, false, "clearing is reset by a new breach");
  assert.equal(result.rules[0].clearingSince, null);
});

Deno.test("evaluateRules() sends no repeat while firing unless the value got worse (the cooldown)", () => {
  const alert = openAlert("manual_review_queue", { value: 12, noticeValue: 12, noticeQueuedAt: T0 });
  const cases: ReadonlyArray<[string, number, number, AlertAction["kind"]]> = [
    ["same value, long after", 12, 600, "track"],
    ["a little worse, after the cooldown", 15, 60, "track"],
    ["1.5 × worse, inside the cooldown", 18, 20, "track"],
    ["1.5 × worse, after the cooldown", 18, 30, "escalate"],
    ["better but still over", 11, 60, "track"],
  ];
  for (const [name, value, at, kind] of cases) {
    const result = evaluateRules({
      values: values({ manual_review_queue: { value } }),
      thresholds: thresholds(),
      openAlerts: [alert],
      now: minutes(at),
    });
    assert.equal(actionFor(result.actions, "manual_review_queue")?.kind, kind, name);
    assert.equal(result.rules[0].state, "firing", name);
  }
});

Deno.test("isWorse() needs a real step up from the notified value", () => {
  assert.equal(isWorse(15, 10, 1.5), true);
  assert.equal(isWorse(14.9, 10, 1.5), false);
  assert.equal(isWorse(10, 10, 1.5), false);
  assert.equal(isWorse(1, 0, 1.5), true, "any rise from zero");
  assert.equal(isWorse(0, 0, 1.5), false);
});

Deno.test("evaluateRules() does not fire a rate rule on too small a sample", () => {
  const result = evaluateRules({
    values: values({ parse_failure_rate: { value: 50, sample: 2 } }),
    thresholds: thresholds(),
    openAlerts: [],
    now: T0,
  });
  const status = result.rules.find((r) => r.rule === "parse_failure_rate")!;
  assert.equal(status.state, "ok");
  assert.equal(status.breached, false);
  assert.match(status.note ?? "", /only 2 finished/);
  assert.deepEqual(result.actions, []);
});

Deno.test("evaluateRules() resolves the alert of a disabled rule and never fires it", () => {
  const result = evaluateRules({
    values: values({ raw_orphans: { value: 9 } }),
    thresholds: thresholds({ raw_orphans: { enabled: false } }),
    openAlerts: [openAlert("raw_orphans", { value: 9, noticeValue: 9 })],
    now: minutes(5),
  });
  const status = result.rules.find((r) => r.rule === "raw_orphans")!;
  assert.equal(status.state, "disabled");
  assert.deepEqual(result.actions.map((a) => [a.kind, a.rule]), [["resolve", "raw_orphans"]]);
});

Deno.test("evaluateRules() leaves an alert alone while its value cannot be read", () => {
  const result = evaluateRules({
    values: values({ raw_orphans: { value: null, unavailableReason: "view public.raw_orphans is missing" } }),
    thresholds: thresholds(),
    openAlerts: [openAlert("raw_orphans", { value: 3, noticeValue: 3 })],
    now: minutes(5),
  });
  const status = result.rules.find((r) => r.rule === "raw_orphans")!;
  assert.equal(status.state, "unavailable");
  assert.equal(status.note, "view public.raw_orphans is missing");
  assert.deepEqual(result.actions, []);
});

Deno.test("evaluateRules() treats a deleted threshold row as disabled and reports unknown rules", () => {
  const result = evaluateRules({
    values: values({ stuck_parsing: { value: 3 } }),
    thresholds: [
      ...thresholds().filter((t) => t.rule !== "stuck_parsing"),
      { ...thresholds()[0], rule: "manual_review_qeue" },
    ],
    openAlerts: [],
    now: T0,
  });
  assert.equal(result.rules.find((r) => r.rule === "stuck_parsing")!.state, "disabled");
  assert.deepEqual(result.unknownRules, ["manual_review_qeue"]);
  assert.deepEqual(result.actions, []);
});

Deno.test("evaluateRules() reports every rule once, in catalogue order, with its threshold", () => {
  const result = evaluateRules({ values: values(), thresholds: thresholds(), openAlerts: [], now: T0 });
  assert.deepEqual(result.rules.map((r) => r.rule), [...RULE_KEYS]);
  assert.deepEqual(result.rules.map((r) => r.threshold), RULE_KEYS.map((k) => SEEDED[k].threshold));
  assert.ok(result.rules.every((r) => r.state === "ok"));
});
