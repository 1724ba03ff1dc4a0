/**
 * One monitor run: evaluate the rules (and record the alert changes), then deliver every undelivered
 * notice — this run's and earlier runs' that failed — and return the summary the function answers with.
 *
 * called by: shared/monitor/handle_storage_health_monitor.ts (cron every 5 min), cli/health.ts (dry run)
 * next: shared/monitor/evaluate_rules.ts (decisions), shared/adapters/postgres_monitor_store.ts (SQL),
 *       shared/adapters/webhook_alert_sink.ts (delivery)
 *
 * A failing webhook never fails the run: the outcome is recorded on the alert row and retried next run.
 */
import { type Clock, systemClock } from "../pipeline/clock.ts";
import { type AlertSink, WEBHOOK_NOT_CONFIGURED } from "./alert_sink.ts";
import { logger } from "../log.ts";
import { type AlertAction, evaluateRules, type RuleStatus } from "./evaluate_rules.ts";
import { formatNotice } from "./format_notice.ts";
import type { HealthOverview, MonitorStore } from "./monitor_store.ts";
import type { RuleKey } from "./rules.ts";

export interface MonitorDeps {
  store: MonitorStore;
  sink: AlertSink;
  clock?: Clock;
  /** A label in front of every message, e.g. "production" (ALERT_ENVIRONMENT). */
  environment?: string;
  /** Notices delivered per run at most (the rest wait for the next run). */
  maxNoticesPerRun?: number;
  /** Undelivered notices older than this are given up (they stay in the table with their error). */
  noticeMaxAgeHours?: number;
}

export interface RuleSummary {
  rule: RuleKey;
  title: string;
  state: RuleStatus["state"];
  value: number | null;
  threshold: number | null;
  unit: RuleStatus["unit"];
  severity: RuleStatus["severity"];
  breached: boolean;
  sample: number | null;
  min_sample: number | null;
  window_minutes: number | null;
  alert_id: string | null;
  firing_since: string | null;
  clearing_since: string | null;
  note: string | null;
  details: Record<string, unknown>;
}

export interface MonitorSummary {
  checked_at: string;
  dry_run: boolean;
  /** "firing" when at least one rule fires. */
  status: "ok" | "firing";
  firing: RuleKey[];
  health: Record<string, number | null>;
  /** status_counts: every conversation of the last 24 h; outcomes: those with a raw response, by parse outcome. */
  pipeline: { status_counts: Record<string, number>; outcomes?: Record<string, number> };
  hourly: Array<{
    hour: string;
    total: number;
    direct: number;
    failed: number;
    mb_per_hour: number | null;
    extracted?: number;
    jsonrepair?: number;
    manual?: number;
    pending?: number;
  }>;
  rules: RuleSummary[];
  /** The alert changes of this run (in a dry run: the changes it would make). */
  alerts: { opened: RuleKey[]; escalated: RuleKey[]; resolved: RuleKey[] };
  notifications: {
    webhook: "configured" | "not_configured";
    delivered: number;
    failed: number;
    deferred: number;
    not_configured: number;
    /** Undelivered notices left for the next run. */
    pending: number;
    errors: string[];
  };
  unknown_rules: string[];
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  deferred: number;
  notConfigured: number;
  errors: string[];
}

const DEFAULT_MAX_NOTICES = 20;
const DEFAULT_NOTICE_MAX_AGE_HOURS = 24;
const CLAIM_LEASE_SECONDS = 120;

/** Delivers claimed notices one by one; after the first failure the rest wait (the webhook is down). */
export async function deliverNotices(deps: MonitorDeps, now: Date): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, failed: 0, deferred: 0, notConfigured: 0, errors: [] };
  const notices = await deps.store.claimNotices(now, {
    limit: deps.maxNoticesPerRun ?? DEFAULT_MAX_NOTICES,
    leaseSeconds: CLAIM_LEASE_SECONDS,
    maxAgeHours: deps.noticeMaxAgeHours ?? DEFAULT_NOTICE_MAX_AGE_HOURS,
  });
  let brokenBy: string | null = null;
  for (const n of notices) {
    const base = { alertId: n.alertId, noticeSeq: n.noticeSeq, now };
    const fields = { alert_id: n.alertId, rule: n.rule, notice: n.notice };
    if (!deps.sink.configured) {
      await deps.store.recordDelivery({
        ...base,
        delivered: false,
        error: WEBHOOK_NOT_CONFIGURED,
        attempted: false,
      });
      report.notConfigured++;
      logger.warn("alert_not_delivered", fields, WEBHOOK_NOT_CONFIGURED);
      continue;
    }
    if (brokenBy !== null) {
      await deps.store.recordDelivery({ ...base, delivered: false, error: brokenBy, attempted: false });
      report.deferred++;
      continue;
    }
    const result = await deps.sink.send(formatNotice(n, { environment: deps.environment, now }));
    if (result.ok) {
      await deps.store.recordDelivery({ ...base, delivered: true, error: null, attempted: true });
      report.delivered++;
      logger.info("alert_delivered", fields);
    } else {
      await deps.store.recordDelivery({ ...base, delivered: false, error: result.error, attempted: true });
      report.failed++;
      report.errors.push(result.error);
      brokenBy = result.error;
      logger.warn("alert_delivery_failed", { ...fields, error: result.error });
    }
  }
  return report;
}

function rulesOf(actions: AlertAction[], kind: AlertAction["kind"]): RuleKey[] {
  return actions.filter((a) => a.kind === kind).map((a) => a.rule);
}

function summarizeOverview(o: HealthOverview): Pick<MonitorSummary, "health" | "pipeline" | "hourly"> {
  return {
    health: o.rawStorageHealth,
    pipeline: { status_counts: o.statusCounts, ...(o.outcomes ? { outcomes: o.outcomes } : {}) },
    hourly: o.hourly.map((h) => ({
      hour: h.hour,
      total: h.total,
      direct: h.direct,
      failed: h.failed,
      mb_per_hour: h.mbPerHour,
      ...(h.extracted === undefined ? {} : {
        extracted: h.extracted,
        jsonrepair: h.jsonrepair ?? 0,
        manual: h.manual ?? 0,
        pending: h.pending ?? 0,
      }),
    })),
  };
}

function summarizeRule(r: RuleStatus): RuleSummary {
  return {
    rule: r.rule,
    title: r.title,
    state: r.state,
    value: r.value,
    threshold: r.threshold,
    unit: r.unit,
    severity: r.severity,
    breached: r.breached,
    sample: r.sample,
    min_sample: r.minSample,
    window_minutes: r.windowMinutes,
    alert_id: r.alertId,
    firing_since: r.firingSince?.toISOString() ?? null,
    clearing_since: r.clearingSince?.toISOString() ?? null,
    note: r.note,
    details: r.details,
  };
}

/**
 * One run at `deps.clock()`. A dry run evaluates only: no alert row changes, no notice is sent, and the summary
 * lists the actions that would be taken. Otherwise the summary lists only the changes the database actually
 * applied (a concurrent run may have made them first) and delivers pending notices. A webhook failure is
 * counted in `notifications`, never thrown; a database failure throws.
 */
export async function runMonitor(deps: MonitorDeps, opts: { dryRun: boolean }): Promise<MonitorSummary> {
  const now = (deps.clock ?? systemClock).now();
  const { snapshot, evaluation, applied } = await deps.store.evaluate(
    now,
    (s) => evaluateRules({ values: s.values, thresholds: s.thresholds, openAlerts: s.openAlerts, now }),
    { apply: !opts.dryRun },
  );
  // In a dry run nothing is applied: report what would change. Otherwise only what actually changed.
  const effective = opts.dryRun ? evaluation.actions : applied.filter((a) => a.changed).map((a) => a.action);
  for (const a of effective) {
    if (a.kind === "track") continue;
    logger.info(`alert_${a.kind}`, {
      rule: a.rule,
      value: a.value,
      threshold: a.threshold,
      dry_run: opts.dryRun,
    });
  }
  if (evaluation.unknownRules.length > 0) {
    logger.warn("alert_thresholds_unknown_rules", { rules: evaluation.unknownRules });
  }

  const maxAge = deps.noticeMaxAgeHours ?? DEFAULT_NOTICE_MAX_AGE_HOURS;
  const report: DeliveryReport = opts.dryRun
    ? { delivered: 0, failed: 0, deferred: 0, notConfigured: 0, errors: [] }
    : await deliverNotices(deps, now);
  const pending = await deps.store.countPendingNotices(now, maxAge);

  const firing = evaluation.rules.filter((r) => r.state === "firing").map((r) => r.rule);
  return {
    checked_at: now.toISOString(),
    dry_run: opts.dryRun,
    status: firing.length > 0 ? "firing" : "ok",
    firing,
    ...summarizeOverview(snapshot.overview),
    rules: evaluation.rules.map(summarizeRule),
    alerts: {
      opened: rulesOf(effective, "open"),
      escalated: rulesOf(effective, "escalate"),
      resolved: rulesOf(effective, "resolve"),
    },
    notifications: {
      webhook: deps.sink.configured ? "configured" : "not_configured",
      delivered: report.delivered,
      failed: report.failed,
      deferred: report.deferred,
      not_configured: report.notConfigured,
      pending,
      errors: report.errors,
    },
    unknown_rules: evaluation.unknownRules,
  };
}
