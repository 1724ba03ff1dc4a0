-- The monitor's batch rules (issue 20, docs/BATCHES.md "Monitoring"), read by storage-health-monitor beside
-- private.health_rule_values and private.account_rule_values (shared/adapters/postgres_monitor_store.ts):
--
--   batch_overdue              open batches (submitting, in_progress, canceling) past their expected end:
--                              expires_at (created + 24 h) plus the rule's window (default 60 minutes) — the API
--                              should have ended them by then; a submit never confirmed counts too
--   batch_results_uncollected  batches that ended more than the window ago (default 30 minutes) and are not yet
--                              collected: the collector is not running, or keeps failing (details.last_error)
--   batch_results_missing      requests with no line in their batch's results file, and lines for no request,
--                              in batches collected within the window (default 24 hours): threshold 0
--
-- A separate function keeps health_rule_values as it is (other branches redefine it).

create or replace function private.batch_rule_values(p_now timestamptz default now())
returns table (rule text, value numeric, sample bigint, details jsonb, unavailable_reason text)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  _window interval;
  _total bigint;
  _oldest timestamptz;
  _ids jsonb;
  _error text;
begin
  rule := 'batch_overdue';
  _window := private.rule_window(rule, 60);
  select count(*), min(coalesce(b.expires_at, b.created_at + interval '24 hours')),
         to_jsonb((array_agg(b.id order by b.created_at))[1:5])
    into _total, _oldest, _ids
    from public.generation_batches b
   where b.state in ('submitting', 'in_progress', 'canceling')
     and coalesce(b.expires_at, b.created_at + interval '24 hours') + _window < p_now;
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object(
    'overdue_since_minutes', private.minutes_since(_oldest, p_now),
    'batch_ids', case when _total > 0 then _ids end));
  unavailable_reason := null;
  return next;

  rule := 'batch_results_uncollected';
  _window := private.rule_window(rule, 30);
  select count(*), min(b.ended_at), to_jsonb((array_agg(b.id order by b.ended_at))[1:5]),
         (array_agg(b.last_error order by b.ended_at) filter (where b.last_error is not null))[1]
    into _total, _oldest, _ids, _error
    from public.generation_batches b
   where b.state in ('in_progress', 'canceling', 'ended', 'results_stored')
     and b.ended_at is not null and b.ended_at < p_now - _window;
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object(
    'oldest_ended_minutes', private.minutes_since(_oldest, p_now),
    'batch_ids', case when _total > 0 then _ids end,
    'last_error', left(_error, 300)));
  return next;

  rule := 'batch_results_missing';
  _window := private.rule_window(rule, 1440);
  select coalesce(sum(b.missing_count + b.unknown_count), 0), count(*),
         to_jsonb((array_agg(b.id order by b.collected_at desc)
                    filter (where b.missing_count + b.unknown_count > 0))[1:5])
    into _total, sample, _ids
    from public.generation_batches b
   where b.state = 'collected' and b.collected_at > p_now - _window;
  value := _total;
  details := jsonb_strip_nulls(jsonb_build_object('batch_ids', case when _total > 0 then _ids end));
  return next;
end
$$;

revoke all on function private.batch_rule_values(timestamptz) from public;
grant execute on function private.batch_rule_values(timestamptz) to service_role;

insert into public.alert_thresholds (rule, threshold, unit, window_minutes, min_sample, severity, description)
values
  ('batch_overdue', 0, 'count', 60, 0, 'warning',
   'open Message Batches past expires_at (created + 24 h) by more than window_minutes'),
  ('batch_results_uncollected', 0, 'count', 30, 0, 'critical',
   'Message Batches ended more than window_minutes ago and not yet collected (collect-batches)'),
  ('batch_results_missing', 0, 'count', 1440, 0, 'critical',
   'requests with no result line (and lines for no request) in batches collected within window_minutes')
on conflict (rule) do nothing;
