/**
 * `GET /review-queue/health` (reviewers and the service only): the pipeline's health for the review console,
 * read through the functions so no browser ever holds a service key.
 *
 * It is the monitor's own dry run (`runMonitor` with `dryRun: true`: rules with state, value and threshold,
 * the hourly parse-success and storage-growth series, counts per status; nothing recorded, nothing sent),
 * plus what a dry run does not list: the open and recent alerts and the items per provenance (`source`) and
 * status.
 *
 * called by: shared/review/handler.ts; next: shared/monitor/run_monitor.ts, shared/adapters/postgres_health_reader.ts
 */
import { noAlertSink } from "../monitor/alert_sink.ts";
import type { MonitorStore } from "../monitor/monitor_store.ts";
import { type MonitorSummary, runMonitor } from "../monitor/run_monitor.ts";
import type { Clock } from "../pipeline/clock.ts";

/** One row of `public.alerts`, as the console shows it. */
export interface AlertView {
  id: string;
  rule: string;
  severity: string;
  fired_at: string;
  resolved_at: string | null;
  value: number | null;
  peak_value: number;
  threshold: number;
  notice: string;
  delivered_at: string | null;
  delivery_error: string | null;
}

/** Conversations per provenance and status (all time), with how many of them wait in review. */
export interface SourceCount {
  source: string;
  status: string;
  count: number;
  in_review: number;
}

/** What the health route reads beyond the monitor's dry run (PostgreSQL: postgres_health_reader.ts). */
export interface HealthReader {
  /** Open alerts (all) and the most recent resolved ones (at most `pastLimit`), newest first. */
  alerts(pastLimit: number): Promise<{ open: AlertView[]; past: AlertView[] }>;
  sourceCounts(): Promise<SourceCount[]>;
}

export interface ReviewHealthDeps {
  readonly monitor: MonitorStore;
  readonly reader: HealthReader;
  readonly clock: Clock;
}

export interface ReviewHealth {
  checked_at: string;
  status: MonitorSummary["status"];
  firing: MonitorSummary["firing"];
  rules: MonitorSummary["rules"];
  health: MonitorSummary["health"];
  status_counts: Record<string, number>;
  outcomes: Record<string, number> | null;
  /** Oldest hour first (ready to chart); the monitor lists the newest first. */
  hourly: MonitorSummary["hourly"];
  source_counts: SourceCount[];
  alerts: { open: AlertView[]; past: AlertView[] };
}

/** Resolved alerts listed at most. */
export const PAST_ALERTS_LIMIT = 20;

/**
 * The health view at `deps.clock.now()`: the monitor's dry run (never records or sends anything), the alerts
 * and the counts per source. A database failure throws (the handler maps it to 503).
 */
export async function readReviewHealth(deps: ReviewHealthDeps): Promise<ReviewHealth> {
  const [summary, alerts, sourceCounts] = await Promise.all([
    runMonitor({ store: deps.monitor, sink: noAlertSink(), clock: deps.clock }, { dryRun: true }),
    deps.reader.alerts(PAST_ALERTS_LIMIT),
    deps.reader.sourceCounts(),
  ]);
  return {
    checked_at: summary.checked_at,
    status: summary.status,
    firing: summary.firing,
    rules: summary.rules,
    health: summary.health,
    status_counts: summary.pipeline.status_counts,
    outcomes: summary.pipeline.outcomes ?? null,
    hourly: [...summary.hourly].sort((a, b) => a.hour < b.hour ? -1 : a.hour > b.hour ? 1 : 0),
    source_counts: sourceCounts,
    alerts,
  };
}
