/**
 * Rule evaluation: given the health numbers, the thresholds, the open alerts and `now`, decide each rule's
 * state and what must change in the alerts table. Pure: no I/O, no clock; the SQL functions in
 * supabase/migrations/20251120000200_create_alert_functions.sql apply the actions as guarded statements.
 *
 * Lifecycle of one alert (one row per incident):
 *   ok ──breach──► open (notice "fired")
 *   open ──still breached, not worse──► track (no notice: the cooldown)
 *   open ──value ≥ last notified × worse_factor and cooldown passed──► escalate (notice "worse")
 *   open ──clear for clear_after_minutes──► resolve (notice "resolved")
 * The clear delay is hysteresis: a value that flaps around its threshold keeps one alert open instead of
 * sending a fired/resolved pair every five minutes.
 */
import { isRuleKey, RULE_KEYS, type RuleKey, RULES, type RuleUnit, type Severity } from "./rules.ts";

export interface RuleThreshold {
  rule: string;
  threshold: number;
  /** Rate rules: the look-back window; stuck rules: the age after which a row counts as stuck. */
  windowMinutes: number | null;
  /** Rate rules only fire with at least this many finished items in the window (0: always). */
  minSample: number;
  /** The least time between two notices of one alert ("worse" notices). */
  cooldownMinutes: number;
  /** A firing alert is notified again only when its value reaches last notified value × this. */
  worseFactor: number;
  /** How long a rule must stay clear before its alert resolves. */
  clearAfterMinutes: number;
  severity: Severity;
  enabled: boolean;
}

export interface RuleValue {
  rule: string;
  /** null when the value cannot be computed (e.g. the view it reads is not installed). */
  value: number | null;
  /** For rate rules: the denominator (finished items in the window). */
  sample: number | null;
  details: Record<string, unknown>;
  unavailableReason: string | null;
}

export type NoticeKind = "fired" | "worse" | "resolved";

export interface OpenAlert {
  id: string;
  rule: string;
  firedAt: Date;
  value: number | null;
  peakValue: number;
  threshold: number;
  notice: NoticeKind;
  noticeValue: number;
  noticeQueuedAt: Date;
  deliveredAt: Date | null;
  clearingSince: Date | null;
}

export type RuleState = "ok" | "firing" | "disabled" | "unavailable";

export interface RuleStatus {
  rule: RuleKey;
  title: string;
  unit: RuleUnit;
  severity: Severity;
  state: RuleState;
  value: number | null;
  threshold: number | null;
  /** True when the value is over the threshold right now (a firing alert may be clearing). */
  breached: boolean;
  sample: number | null;
  minSample: number | null;
  windowMinutes: number | null;
  alertId: string | null;
  firingSince: Date | null;
  clearingSince: Date | null;
  note: string | null;
  details: Record<string, unknown>;
}

interface ActionBase {
  rule: RuleKey;
  value: number | null;
  threshold: number;
  details: Record<string, unknown>;
}

export type AlertAction =
  | ActionBase & { kind: "open"; severity: Severity; value: number }
  | ActionBase & { kind: "track"; alertId: string; clearing: boolean }
  | ActionBase & { kind: "escalate"; alertId: string; value: number }
  | ActionBase & { kind: "resolve"; alertId: string; reason: string };

export interface EvaluationInput {
  values: readonly RuleValue[];
  thresholds: readonly RuleThreshold[];
  openAlerts: readonly OpenAlert[];
  now: Date;
}

export interface Evaluation {
  rules: RuleStatus[];
  actions: AlertAction[];
  /** Threshold rows whose rule this code does not know (a typo, or a rule removed from the code). */
  unknownRules: string[];
}

const MINUTE = 60_000;

function minutesBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / MINUTE;
}

/** "Worse" means a real step up, not noise: value ≥ notified × factor (any rise when notified at 0). */
export function isWorse(value: number, notifiedValue: number, worseFactor: number): boolean {
  if (value <= notifiedValue) return false;
  if (notifiedValue <= 0) return true;
  return value >= notifiedValue * worseFactor;
}

/**
 * Pure and deterministic for the same input. Returns one status per known rule, in `RULE_KEYS` order, and the
 * alert actions (open / track / escalate / resolve; at most one per rule). A rule without a threshold row or
 * switched off is `disabled` and its open alert resolves; a rule whose value is null is `unavailable` and its
 * open alert is left as it is; a rate rule under its `minSample` never fires. Threshold rows naming no known
 * rule are returned in `unknownRules`, never evaluated.
 */
export function evaluateRules(input: EvaluationInput): Evaluation {
  const { now } = input;
  const thresholds = new Map(input.thresholds.map((t) => [t.rule, t]));
  const values = new Map(input.values.map((v) => [v.rule, v]));
  const open = new Map(input.openAlerts.map((a) => [a.rule, a]));
  const rules: RuleStatus[] = [];
  const actions: AlertAction[] = [];

  for (const key of RULE_KEYS) {
    const info = RULES[key];
    const t = thresholds.get(key);
    const v = values.get(key);
    const alert = open.get(key) ?? null;
    const status: RuleStatus = {
      rule: key,
      title: info.title,
      unit: info.unit,
      severity: t?.severity ?? "warning",
      state: "ok",
      value: v?.value ?? null,
      threshold: t?.threshold ?? null,
      breached: false,
      sample: v?.sample ?? null,
      minSample: t?.minSample ?? null,
      windowMinutes: t?.windowMinutes ?? null,
      alertId: alert?.id ?? null,
      firingSince: alert?.firedAt ?? null,
      clearingSince: alert?.clearingSince ?? null,
      note: null,
      details: v?.details ?? {},
    };
    rules.push(status);

    // A rule switched off (or its threshold row deleted) does not fire, and its open alert resolves.
    if (!t || !t.enabled) {
      status.state = "disabled";
      status.note = t ? "disabled in alert_thresholds" : "no row in alert_thresholds";
      if (alert) {
        actions.push({
          kind: "resolve",
          alertId: alert.id,
          rule: key,
          value: status.value,
          threshold: alert.threshold,
          details: status.details,
          reason: status.note,
        });
        status.alertId = null;
        status.firingSince = null;
        status.clearingSince = null;
      }
      continue;
    }

    // No number, no decision: an open alert stays as it is until the value can be read again.
    if (!v || v.value === null) {
      status.state = "unavailable";
      status.note = v?.unavailableReason ?? "the database returned no value for this rule";
      continue;
    }

    const value = v.value;
    const enoughSample = t.minSample === 0 || v.sample === null || v.sample >= t.minSample;
    status.breached = value > t.threshold && enoughSample;
    if (value > t.threshold && !enoughSample) {
      status.note = `only ${v.sample} finished in the window (at least ${t.minSample} needed to fire)`;
    }

    if (status.breached) {
      status.state = "firing";
      status.clearingSince = null;
      if (!alert) {
        actions.push({
          kind: "open",
          rule: key,
          severity: t.severity,
          value,
          threshold: t.threshold,
          details: v.details,
        });
        status.firingSince = now;
      } else if (
        isWorse(value, alert.noticeValue, t.worseFactor) &&
        minutesBetween(alert.noticeQueuedAt, now) >= t.cooldownMinutes
      ) {
        actions.push({
          kind: "escalate",
          alertId: alert.id,
          rule: key,
          value,
          threshold: t.threshold,
          details: v.details,
        });
      } else {
        actions.push({
          kind: "track",
          alertId: alert.id,
          rule: key,
          value,
          threshold: t.threshold,
          details: v.details,
          clearing: false,
        });
      }
      continue;
    }

    if (!alert) continue; // ok, and nothing to resolve

    const clearingSince = alert.clearingSince ?? now;
    if (minutesBetween(clearingSince, now) >= t.clearAfterMinutes) {
      actions.push({
        kind: "resolve",
        alertId: alert.id,
        rule: key,
        value,
        threshold: t.threshold,
        details: v.details,
        reason: "back under the threshold",
      });
      status.state = "ok";
      status.alertId = null;
      status.firingSince = null;
      status.clearingSince = null;
    } else {
      actions.push({
        kind: "track",
        alertId: alert.id,
        rule: key,
        value,
        threshold: t.threshold,
        details: v.details,
        clearing: true,
      });
      status.state = "firing";
      status.clearingSince = clearingSince;
      status.note = `under the threshold since ${clearingSince.toISOString()}; resolves after ` +
        `${t.clearAfterMinutes} min clear`;
    }
  }

  const unknownRules = input.thresholds.map((t) => t.rule).filter((r) => !isRuleKey(r));
  return { rules, actions, unknownRules };
}
