/**
 * The monitor's rules: what each one measures, in which unit, and what a person should do when it fires.
 *
 * The numbers come from SQL (`private.health_rule_values`, which reads `raw_storage_health` and the pipeline
 * tables, and `private.account_rule_values` for the rules that name one account); thresholds come from the `alert_thresholds` table, so operators tune them with SQL. This file only
 * names and describes the rules. The first three are the checklist's "Recommended Alerts" (Step 7) with its
 * wording for the action; the others watch the pipeline's own failure modes (docs/PIPELINE.md).
 */

export const RULE_KEYS = [
  "manual_review_queue",
  "parse_failure_rate",
  "raw_storage_growth",
  "claude_failure_rate",
  "stuck_generating",
  "stuck_raw_stored",
  "stuck_parsing",
  "stuck_raw_spooled",
  "spooled_raw_waiting",
  "raw_orphans",
  "upload_review_queue_per_user",
  "failures_by_user",
  "answers_lost",
  "batch_overdue",
  "batch_results_uncollected",
  "batch_results_missing",
] as const;

export type RuleKey = typeof RULE_KEYS[number];

export type RuleUnit = "count" | "percent" | "megabytes";

export type Severity = "warning" | "critical";

export interface RuleInfo {
  key: RuleKey;
  /** A short noun phrase for messages and tables: "Manual review queue". */
  title: string;
  unit: RuleUnit;
  /** "checklist" for the runbook's three alerts, "pipeline" for ours. */
  origin: "checklist" | "pipeline";
  /** What the value counts, for a person reading the alert. */
  measures: string;
  /** What to do when it fires (the checklist's "Action" where it has one). */
  action: string;
}

export const RULES: Readonly<Record<RuleKey, RuleInfo>> = {
  manual_review_queue: {
    key: "manual_review_queue",
    title: "Manual review queue",
    unit: "count",
    origin: "checklist",
    measures: "conversations with requires_manual_review = true (the review queue; dismissing clears it)",
    action: "Notify DevOps/Engineering team; work the queue with the review-queue function",
  },
  parse_failure_rate: {
    key: "parse_failure_rate",
    title: "Parse failure rate",
    unit: "percent",
    origin: "checklist",
    measures: "parse_failed among conversations created in the window whose parse finished",
    action: "Investigate prompt/schema issues (see parse_error_patterns)",
  },
  raw_storage_growth: {
    key: "raw_storage_growth",
    title: "Raw storage growth (24 h)",
    unit: "megabytes",
    origin: "checklist",
    measures: "raw_storage_health.raw_storage_mb: raw bytes stored in the last 24 hours",
    action: "Review if cleanup is needed (raw-retention, RAW_RETENTION_DAYS)",
  },
  claude_failure_rate: {
    key: "claude_failure_rate",
    title: "Claude failure rate",
    unit: "percent",
    origin: "pipeline",
    measures: "generation_failed among conversations created in the window that finished generating",
    action: "Check Anthropic status, rate limits and the generate-conversation logs",
  },
  stuck_generating: {
    key: "stuck_generating",
    title: "Stuck in generating",
    unit: "count",
    origin: "pipeline",
    measures: "conversations still generating longer than the window after they were created",
    action:
      "A generate-conversation call outlived the platform's limits; private.fail_abandoned_generations closes it " +
      "(worker_lost) after 30 minutes unless a write-ahead copy or checkpoint holds its answer",
  },
  stuck_raw_stored: {
    key: "stuck_raw_stored",
    title: "Stuck in raw_stored",
    unit: "count",
    origin: "pipeline",
    measures: "conversations whose raw was stored longer than the window ago and are still unparsed",
    action: "Check the storage trigger wake-ups, the sweeper cron job and parse-conversation",
  },
  stuck_parsing: {
    key: "stuck_parsing",
    title: "Stuck in parsing",
    unit: "count",
    origin: "pipeline",
    measures: "conversations in parsing whose raw was stored longer than the window ago",
    action: "Check parse-conversation errors and that the sweeper reclaims expired claims",
  },
  stuck_raw_spooled: {
    key: "stuck_raw_spooled",
    title: "Stuck in raw_spooled",
    unit: "count",
    origin: "pipeline",
    measures: "conversations whose raw has waited in the database spool longer than the window",
    action: "Storage uploads keep failing: check Storage status and the sweeper's spool flush",
  },
  spooled_raw_waiting: {
    key: "spooled_raw_waiting",
    title: "Spooled raw waiting",
    unit: "count",
    origin: "pipeline",
    measures: "raw responses held only in the raw_response_spool table (Storage was unavailable)",
    action: "Storage rejected uploads; the sweeper retries every minute, watch that the count falls",
  },
  raw_orphans: {
    key: "raw_orphans",
    title: "Raw orphans",
    unit: "count",
    origin: "pipeline",
    measures: "rows of the raw_orphans view (a raw object without a row, or a row without its object)",
    action: "Reconcile: see the raw_orphans view and the sweeper's orphan report",
  },
  upload_review_queue_per_user: {
    key: "upload_review_queue_per_user",
    title: "One user's uploads in review",
    unit: "count",
    origin: "pipeline",
    measures:
      "review items created from one user's own uploads (the account with the most; details.user_id names it)",
    action:
      "Look at that account's uploads; lower its raw_uploads_per_hour in private.usage_limits if it is abuse",
  },
  failures_by_user: {
    key: "failures_by_user",
    title: "One account dominates failures",
    unit: "percent",
    origin: "pipeline",
    measures:
      "the share of the window's failures (generation, parse, resolved by hand) of the account with the most",
    action: "Check the account named in details.user_id; limit it in private.usage_limits if it is abuse",
  },
  answers_lost: {
    key: "answers_lost",
    title: "Answers lost at the worker",
    unit: "count",
    origin: "pipeline",
    measures:
      "generations closed as worker_lost in the window: the function worker ended before any durable write of " +
      "Claude's answer (generation_error_code = 'worker_lost')",
    action:
      "Check the generate-conversation logs around each id (wall clock, memory, deploys); the answer was paid " +
      "for and is gone — regenerate with a new Idempotency-Key",
  },
  batch_overdue: {
    key: "batch_overdue",
    title: "Batches past their expected end",
    unit: "count",
    origin: "pipeline",
    measures:
      "open Message Batches past expires_at (created + 24 h) by more than the window (details.batch_ids)",
    action: "Check the batch at Anthropic (deno task batch status); cancel it, or re-submit its requests",
  },
  batch_results_uncollected: {
    key: "batch_results_uncollected",
    title: "Batch results not collected",
    unit: "count",
    origin: "pipeline",
    measures: "Message Batches ended more than the window ago and not yet collected (details.last_error)",
    action: "Check the collect-batches cron job and logs; run deno task batch collect (docs/BATCHES.md)",
  },
  batch_results_missing: {
    key: "batch_results_missing",
    title: "Batch results missing",
    unit: "count",
    origin: "pipeline",
    measures: "requests with no line in their batch's results file, and lines for no request, in the window",
    action: "Read the stored results file of each batch in details.batch_ids; re-submit the missing requests",
  },
};

/** Narrows a threshold row's `rule` text to a rule this code describes; false for typos and removed rules. */
export function isRuleKey(value: string): value is RuleKey {
  return (RULE_KEYS as readonly string[]).includes(value);
}

/** "14", "12.5 %", "1,536.2 MB": the unit a person expects, without false precision. */
export function formatRuleValue(unit: RuleUnit, value: number | null): string {
  if (value === null) return "n/a";
  const rounded = Math.round(value * 10) / 10;
  const text = rounded.toLocaleString("en-US", { maximumFractionDigits: 1 });
  switch (unit) {
    case "count":
      return Math.round(value).toLocaleString("en-US");
    case "percent":
      return `${text} %`;
    case "megabytes":
      return `${text} MB`;
  }
}
