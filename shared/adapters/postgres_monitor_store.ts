/**
 * MonitorStore over PostgreSQL (postgres.js, `prepare: false`): reads the health functions and the alerts
 * table, applies alert actions through the guarded SQL functions of
 * supabase/migrations/20251120000200_create_alert_functions.sql. Rows are validated with zod at this boundary.
 *
 * Accepts a transaction as well as a pool, so integration tests can run a whole monitor cycle inside a
 * transaction they roll back (savepoints stand in for the inner transactions).
 */
import { z } from "zod";
import type {
  AlertAction,
  Evaluation,
  OpenAlert,
  RuleThreshold,
  RuleValue,
} from "../monitor/evaluate_rules.ts";
import type { PendingNotice } from "../monitor/format_notice.ts";
import type {
  AppliedAction,
  DeliveryRecord,
  HealthOverview,
  HealthSnapshot,
  MonitorStore,
  NoticeClaimOptions,
} from "../monitor/monitor_store.ts";
import type { Sql, TxSql } from "./postgres_sql.ts";

export type Queryable = Sql | TxSql;

/** Runs `fn` in a transaction: BEGIN on a pool, a SAVEPOINT inside a caller's transaction. */
export function inTransaction<T>(q: Queryable, fn: (tx: TxSql) => Promise<T>): Promise<T> {
  if ("savepoint" in q) return q.savepoint(fn) as Promise<T>;
  return q.begin(fn) as Promise<T>;
}

const num = z.coerce.number();
const nullableNum = z.union([z.null(), z.coerce.number()]);
const severity = z.enum(["warning", "critical"]);
const notice = z.enum(["fired", "worse", "resolved"]);
const details = z.record(z.string(), z.unknown());

const ruleValueRow = z.object({
  rule: z.string(),
  value: nullableNum,
  sample: nullableNum,
  details: details.nullable(),
  unavailable_reason: z.string().nullable(),
});

const thresholdRow = z.object({
  rule: z.string(),
  threshold: num,
  window_minutes: z.number().int().nullable(),
  min_sample: z.number().int(),
  cooldown_minutes: z.number().int(),
  worse_factor: num,
  clear_after_minutes: z.number().int(),
  severity,
  enabled: z.boolean(),
});

const openAlertRow = z.object({
  id: z.string(),
  rule: z.string(),
  fired_at: z.date(),
  value: nullableNum,
  peak_value: num,
  threshold: num,
  notice,
  notice_value: num,
  notice_queued_at: z.date(),
  delivered_at: z.date().nullable(),
  clearing_since: z.date().nullable(),
});

const noticeRow = openAlertRow.extend({
  severity,
  resolved_at: z.date().nullable(),
  notice_seq: z.number().int(),
  delivery_attempts: z.number().int(),
  details,
});

const overviewJson = z.object({
  raw_storage_health: z.record(z.string(), nullableNum).nullable(),
  status_counts: z.record(z.string(), num),
  outcomes: z.record(z.string(), num).optional(),
  hourly: z.array(z.object({
    hour: z.string(),
    total: num,
    direct: num,
    failed: num,
    mb_per_hour: nullableNum,
    extracted: num.optional(),
    jsonrepair: num.optional(),
    manual: num.optional(),
    pending: num.optional(),
  })),
});

/** Columns of an alert row, with numerics as float8 and the id as text (JSON-safe). */
const ALERT_COLUMNS = `id::text as id, rule, severity, fired_at, resolved_at, value::float8 as value,
  peak_value::float8 as peak_value, threshold::float8 as threshold, details, notice, notice_seq,
  notice_value::float8 as notice_value, notice_queued_at, delivered_at, clearing_since, delivery_attempts`;

async function readSnapshot(tx: TxSql, now: Date): Promise<HealthSnapshot> {
  const values = await tx`
    select rule, value::float8 as value, sample::float8 as sample, details, unavailable_reason
      from private.health_rule_values(${now})
    union all
    select rule, value::float8 as value, sample::float8 as sample, details, unavailable_reason
      from private.account_rule_values(${now})
    union all
    select rule, value::float8 as value, sample::float8 as sample, details, unavailable_reason
      from private.batch_rule_values(${now})`;
  const thresholds = await tx`
    select rule, threshold::float8 as threshold, window_minutes, min_sample, cooldown_minutes,
           worse_factor::float8 as worse_factor, clear_after_minutes, severity, enabled
      from public.alert_thresholds order by rule`;
  const open = await tx.unsafe(
    `select ${ALERT_COLUMNS} from public.alerts where resolved_at is null order by id`,
  );
  const [{ overview }] = await tx`select private.health_overview(${now}) as overview`;

  const o = overviewJson.parse(overview);
  const parsedOverview: HealthOverview = {
    rawStorageHealth: o.raw_storage_health ?? {},
    statusCounts: o.status_counts,
    ...(o.outcomes ? { outcomes: o.outcomes } : {}),
    hourly: o.hourly.map((h) => ({
      hour: h.hour,
      total: h.total,
      direct: h.direct,
      failed: h.failed,
      mbPerHour: h.mb_per_hour,
      ...(h.extracted === undefined ? {} : {
        extracted: h.extracted,
        jsonrepair: h.jsonrepair ?? 0,
        manual: h.manual ?? 0,
        pending: h.pending ?? 0,
      }),
    })),
  };
  return {
    overview: parsedOverview,
    values: values.map((r): RuleValue => {
      const v = ruleValueRow.parse(r);
      return {
        rule: v.rule,
        value: v.value,
        sample: v.sample,
        details: v.details ?? {},
        unavailableReason: v.unavailable_reason,
      };
    }),
    thresholds: thresholds.map((r): RuleThreshold => {
      const t = thresholdRow.parse(r);
      return {
        rule: t.rule,
        threshold: t.threshold,
        windowMinutes: t.window_minutes,
        minSample: t.min_sample,
        cooldownMinutes: t.cooldown_minutes,
        worseFactor: t.worse_factor,
        clearAfterMinutes: t.clear_after_minutes,
        severity: t.severity,
        enabled: t.enabled,
      };
    }),
    openAlerts: open.map((r): OpenAlert => {
      const a = openAlertRow.parse(r);
      return {
        id: a.id,
        rule: a.rule,
        firedAt: a.fired_at,
        value: a.value,
        peakValue: a.peak_value,
        threshold: a.threshold,
        notice: a.notice,
        noticeValue: a.notice_value,
        noticeQueuedAt: a.notice_queued_at,
        deliveredAt: a.delivered_at,
        clearingSince: a.clearing_since,
      };
    }),
  };
}

// JSON goes in as text and is cast in SQL (`::text::jsonb`): a parameter the server describes as jsonb would be
// JSON-encoded again by postgres.js, turning the object into a JSON string scalar.
function jsonParam(value: Record<string, unknown>): string {
  return JSON.stringify(value);
}

async function applyAction(tx: TxSql, a: AlertAction, now: Date): Promise<AppliedAction> {
  switch (a.kind) {
    case "open": {
      const [row] = await tx`
        select private.open_alert(${a.rule}, ${a.severity}, ${a.value}, ${a.threshold},
                                  ${jsonParam(a.details)}::text::jsonb, ${now})::text as id`;
      const id = z.string().nullable().parse(row.id);
      return { action: a, changed: id !== null, alertId: id };
    }
    case "track": {
      const [row] = await tx`
        select private.track_alert(${a.alertId}::bigint, ${a.value}, ${a.threshold},
                                   ${jsonParam(a.details)}::text::jsonb, ${a.clearing}, ${now}) as changed`;
      return { action: a, changed: z.boolean().parse(row.changed), alertId: a.alertId };
    }
    case "escalate": {
      const [row] = await tx`
        select private.escalate_alert(${a.alertId}::bigint, ${a.value}, ${a.threshold},
                                      ${jsonParam(a.details)}::text::jsonb, ${now}) as changed`;
      return { action: a, changed: z.boolean().parse(row.changed), alertId: a.alertId };
    }
    case "resolve": {
      const [row] = await tx`
        select private.resolve_alert(${a.alertId}::bigint, ${a.value}, ${jsonParam(a.details)}::text::jsonb,
                                     ${now}) as changed`;
      return { action: a, changed: z.boolean().parse(row.changed), alertId: a.alertId };
    }
  }
}

/**
 * The monitor's `MonitorStore` over PostgreSQL: reads the health views (the SQL aggregates, TypeScript does not)
 * and records alerts and deliveries; works on a pool or inside a caller's transaction.
 */
export function postgresMonitorStore(sql: Queryable): MonitorStore {
  return {
    evaluate(now: Date, decide: (s: HealthSnapshot) => Evaluation, opts: { apply: boolean }) {
      return inTransaction(sql, async (tx) => {
        // Serialize with any other run for the rest of this transaction: the snapshot, the decisions and the
        // writes belong together (a second run then sees this run's alerts).
        if (opts.apply) await tx`select private.lock_health_monitor()`;
        const snapshot = await readSnapshot(tx, now);
        const evaluation = decide(snapshot);
        const applied: AppliedAction[] = [];
        if (opts.apply) {
          for (const action of evaluation.actions) applied.push(await applyAction(tx, action, now));
        }
        return { snapshot, evaluation, applied };
      });
    },

    async claimNotices(now: Date, opts: NoticeClaimOptions): Promise<PendingNotice[]> {
      const rows = await sql.unsafe(
        `select ${ALERT_COLUMNS}
           from private.claim_alert_notices($1, make_interval(secs => $2), make_interval(hours => $3), $4)
          order by notice_queued_at, id`,
        [opts.limit, opts.leaseSeconds, opts.maxAgeHours, now],
      );
      return rows.map((r): PendingNotice => {
        const n = noticeRow.parse(r);
        return {
          alertId: n.id,
          rule: n.rule,
          severity: n.severity,
          notice: n.notice,
          noticeSeq: n.notice_seq,
          noticeValue: n.notice_value,
          peakValue: n.peak_value,
          threshold: n.threshold,
          firedAt: n.fired_at,
          resolvedAt: n.resolved_at,
          noticeQueuedAt: n.notice_queued_at,
          deliveryAttempts: n.delivery_attempts,
          details: n.details,
        };
      });
    },

    async recordDelivery(r: DeliveryRecord): Promise<boolean> {
      const [row] = await sql`
        select private.record_alert_delivery(${r.alertId}::bigint, ${r.noticeSeq}, ${r.delivered}, ${r.error},
                                             ${r.attempted}, ${r.now}) as changed`;
      return z.boolean().parse(row.changed);
    },

    async countPendingNotices(now: Date, maxAgeHours: number): Promise<number> {
      const [row] = await sql`
        select count(*)::int as n from public.alerts
         where delivered_at is null and notice_queued_at > ${now}::timestamptz - make_interval(hours => ${maxAgeHours})`;
      return z.number().int().parse(row.n);
    },
  };
}
