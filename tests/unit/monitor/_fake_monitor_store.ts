/**
 * An in-memory MonitorStore with the same rules as the SQL functions in
 * supabase/migrations/20251120000200_create_alert_functions.sql (one open alert per rule, notices replaced
 * by newer ones, deliveries recorded only against the notice they were claimed with).
 */
import type {
  AlertAction,
  Evaluation,
  NoticeKind,
  OpenAlert,
  RuleThreshold,
  RuleValue,
} from "../../../shared/monitor/evaluate_rules.ts";
import type { PendingNotice } from "../../../shared/monitor/format_notice.ts";
import type {
  AppliedAction,
  DeliveryRecord,
  HealthOverview,
  HealthSnapshot,
  MonitorStore,
  NoticeClaimOptions,
} from "../../../shared/monitor/monitor_store.ts";
import type { Severity } from "../../../shared/monitor/rules.ts";

export interface FakeAlert {
  id: string;
  rule: string;
  severity: Severity;
  firedAt: Date;
  resolvedAt: Date | null;
  value: number | null;
  peakValue: number;
  threshold: number;
  details: Record<string, unknown>;
  clearingSince: Date | null;
  notice: NoticeKind;
  noticeSeq: number;
  noticeValue: number;
  noticeQueuedAt: Date;
  deliveredAt: Date | null;
  deliveryError: string | null;
  deliveryAttempts: number;
  claimedUntil: Date | null;
}

export class FakeMonitorStore implements MonitorStore {
  values: RuleValue[];
  thresholds: RuleThreshold[];
  alerts: FakeAlert[] = [];
  overview: HealthOverview = { rawStorageHealth: {}, statusCounts: {}, hourly: [] };
  private nextId = 1;

  constructor(values: RuleValue[], thresholds: RuleThreshold[]) {
    this.values = values;
    this.thresholds = thresholds;
  }

  setValue(rule: string, value: number | null): void {
    this.values = this.values.map((v) => v.rule === rule ? { ...v, value } : v);
  }

  open(): FakeAlert[] {
    return this.alerts.filter((a) => a.resolvedAt === null);
  }

  evaluate(
    now: Date,
    decide: (snapshot: HealthSnapshot) => Evaluation,
    opts: { apply: boolean },
  ): Promise<{ snapshot: HealthSnapshot; evaluation: Evaluation; applied: AppliedAction[] }> {
    const openAlerts: OpenAlert[] = this.open().map((a) => ({
      id: a.id,
      rule: a.rule,
      firedAt: a.firedAt,
      value: a.value,
      peakValue: a.peakValue,
      threshold: a.threshold,
      notice: a.notice,
      noticeValue: a.noticeValue,
      noticeQueuedAt: a.noticeQueuedAt,
      deliveredAt: a.deliveredAt,
      clearingSince: a.clearingSince,
    }));
    const snapshot: HealthSnapshot = {
      overview: this.overview,
      values: this.values,
      thresholds: this.thresholds,
      openAlerts,
    };
    const evaluation = decide(snapshot);
    const applied = opts.apply ? evaluation.actions.map((a) => this.apply(a, now)) : [];
    return Promise.resolve({ snapshot, evaluation, applied });
  }

  private queue(a: FakeAlert, notice: NoticeKind, value: number, now: Date): void {
    a.notice = notice;
    a.noticeSeq += 1;
    a.noticeValue = value;
    a.noticeQueuedAt = now;
    a.deliveredAt = null;
    a.deliveryError = null;
    a.deliveryAttempts = 0;
    a.claimedUntil = null;
  }

  private apply(action: AlertAction, now: Date): AppliedAction {
    if (action.kind === "open") {
      if (this.open().some((a) => a.rule === action.rule)) return { action, changed: false, alertId: null };
      const id = String(this.nextId++);
      this.alerts.push({
        id,
        rule: action.rule,
        severity: action.severity,
        firedAt: now,
        resolvedAt: null,
        value: action.value,
        peakValue: action.value,
        threshold: action.threshold,
        details: action.details,
        clearingSince: null,
        notice: "fired",
        noticeSeq: 1,
        noticeValue: action.value,
        noticeQueuedAt: now,
        deliveredAt: null,
        deliveryError: null,
        deliveryAttempts: 0,
        claimedUntil: null,
      });
      return { action, changed: true, alertId: id };
    }
    const a = this.alerts.find((x) => x.id === action.alertId && x.resolvedAt === null);
    if (!a) return { action, changed: false, alertId: action.alertId };
    if (action.value !== null) {
      a.value = action.value;
      a.peakValue = Math.max(a.peakValue, action.value);
    }
    a.threshold = action.threshold;
    a.details = action.details;
    if (action.kind === "track") {
      a.clearingSince = action.clearing ? (a.clearingSince ?? now) : null;
      if (a.deliveredAt === null && a.notice !== "resolved" && action.value !== null) {
        a.noticeValue = action.value;
      }
    } else if (action.kind === "escalate") {
      a.clearingSince = null;
      this.queue(a, "worse", action.value, now);
    } else {
      a.resolvedAt = now;
      a.clearingSince = null;
      this.queue(a, "resolved", action.value ?? a.noticeValue, now);
    }
    return { action, changed: true, alertId: a.id };
  }

  claimNotices(now: Date, opts: NoticeClaimOptions): Promise<PendingNotice[]> {
    const cutoff = now.getTime() - opts.maxAgeHours * 3_600_000;
    const due = this.alerts
      .filter((a) =>
        a.deliveredAt === null && a.noticeQueuedAt.getTime() > cutoff &&
        (a.claimedUntil === null || a.claimedUntil < now)
      )
      .sort((x, y) => x.noticeQueuedAt.getTime() - y.noticeQueuedAt.getTime())
      .slice(0, opts.limit);
    for (const a of due) a.claimedUntil = new Date(now.getTime() + opts.leaseSeconds * 1000);
    return Promise.resolve(due.map((a) => ({
      alertId: a.id,
      rule: a.rule,
      severity: a.severity,
      notice: a.notice,
      noticeSeq: a.noticeSeq,
      noticeValue: a.noticeValue,
      peakValue: a.peakValue,
      threshold: a.threshold,
      firedAt: a.firedAt,
      resolvedAt: a.resolvedAt,
      noticeQueuedAt: a.noticeQueuedAt,
      deliveryAttempts: a.deliveryAttempts,
      details: a.details,
    })));
  }

  recordDelivery(r: DeliveryRecord): Promise<boolean> {
    const a = this.alerts.find((x) => x.id === r.alertId && x.noticeSeq === r.noticeSeq);
    if (!a) return Promise.resolve(false);
    if (r.attempted) a.deliveryAttempts += 1;
    if (r.delivered) {
      a.deliveredAt = r.now;
      a.deliveryError = null;
    } else {
      a.deliveryError = r.error;
    }
    a.claimedUntil = null;
    return Promise.resolve(true);
  }

  countPendingNotices(now: Date, maxAgeHours: number): Promise<number> {
    const cutoff = now.getTime() - maxAgeHours * 3_600_000;
    return Promise.resolve(
      this.alerts.filter((a) => a.deliveredAt === null && a.noticeQueuedAt.getTime() > cutoff).length,
    );
  }
}
