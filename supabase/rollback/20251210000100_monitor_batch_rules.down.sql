-- Removes the monitor's batch rules: their function, thresholds and alerts (shared/monitor/rules.ts must go back
-- with it: the monitor store reads private.batch_rule_values).
drop function if exists private.batch_rule_values(timestamptz);
delete from public.alerts where rule in ('batch_overdue', 'batch_results_uncollected', 'batch_results_missing');
delete from public.alert_thresholds
 where rule in ('batch_overdue', 'batch_results_uncollected', 'batch_results_missing');
