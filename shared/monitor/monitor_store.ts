/**
 * What the monitor needs from the database, as one interface (the PostgreSQL implementation is
 * shared/adapters/postgres_monitor_store.ts; tests use an in-memory fake).
 */
import type { AlertAction, Evaluation, OpenAlert, RuleThreshold, RuleValue } from "./evaluate_rules.ts";
import type { PendingNotice } from "./format_notice.ts";

/** One hour of the runbook's 24-hour checks (parse_success_hourly joined with storage_growth_hourly). */
export interface HourlyRow {
  hour: string;
  total: number;
  direct: number;
  failed: number;
  mbPerHour: number | null;
  /** The other methods and the not-yet-parsed rows (absent on a database before 20251205000100). */
  extracted?: number;
  jsonrepair?: number;
  manual?: number;
  pending?: number;
}

export interface HealthOverview {
  /** The row of the checklist's `raw_storage_health` view, column names as in the view. */
  rawStorageHealth: Record<string, number | null>;
  /** Conversations per processing_status (all time). */
  statusCounts: Record<string, number>;
  /**
   * The raw_storage_health rows by exclusive parse outcome (direct, extracted, jsonrepair, manual, in_review,
   * not_parsed); they sum to its total_conversations. Absent on a database before 20251205000100.
   */
  outcomes?: Record<string, number>;
  /** The most recent hours first. */
  hourly: HourlyRow[];
}

export interface HealthSnapshot {
  overview: HealthOverview;
  values: RuleValue[];
  thresholds: RuleThreshold[];
  openAlerts: OpenAlert[];
}

/** An action and whether its guarded statement changed a row (false: another run got there first). */
export interface AppliedAction {
  action: AlertAction;
  changed: boolean;
  alertId: string | null;
}

export interface DeliveryRecord {
  alertId: string;
  noticeSeq: number;
  delivered: boolean;
  error: string | null;
  /** False when nothing was sent (no webhook configured, or deferred after an earlier failure). */
  attempted: boolean;
  now: Date;
}

export interface NoticeClaimOptions {
  limit: number;
  leaseSeconds: number;
  /** Notices queued longer ago than this are no longer retried (they stay undelivered in the table). */
  maxAgeHours: number;
}

export interface MonitorStore {
  /**
   * Reads a snapshot while holding the monitor lock, lets `decide` evaluate it and, when `apply` is set,
   * applies the actions in the same transaction, so two overlapping runs cannot open the same alert twice.
   */
  evaluate(
    now: Date,
    decide: (snapshot: HealthSnapshot) => Evaluation,
    opts: { apply: boolean },
  ): Promise<{ snapshot: HealthSnapshot; evaluation: Evaluation; applied: AppliedAction[] }>;
  /** Leases undelivered notices (pgmq-style), so overlapping runs do not send one notice twice. */
  claimNotices(now: Date, opts: NoticeClaimOptions): Promise<PendingNotice[]>;
  /** Records a delivery outcome for the notice it was claimed with; false when a newer notice replaced it. */
  recordDelivery(record: DeliveryRecord): Promise<boolean>;
  /** Notices still undelivered and young enough to be retried. */
  countPendingNotices(now: Date, maxAgeHours: number): Promise<number>;
}
