-- The monitor's tables: shape, the seeded thresholds (the checklist's values), RLS and privileges.
begin;
select plan(26);

-- ---------------------------------------------------------------------------------------------------------
-- Shape
-- ---------------------------------------------------------------------------------------------------------
select has_table('public', 'alert_thresholds', 'alert_thresholds exists');
select has_table('public', 'alerts', 'alerts exists');
select columns_are('public', 'alerts', array[
  'id', 'rule', 'severity', 'fired_at', 'resolved_at', 'value', 'peak_value', 'threshold', 'details',
  'last_evaluated_at', 'clearing_since', 'notice', 'notice_seq', 'notice_value', 'notice_queued_at',
  'delivered_at', 'delivery_error', 'delivery_attempts', 'last_attempt_at', 'delivery_claimed_until',
  'notices_delivered'
], 'alerts records fired, resolved, value, threshold, delivered, delivery error and attempts');
select has_index('public', 'alerts', 'alerts_one_open_per_rule', 'one open alert per rule is an index');

-- ---------------------------------------------------------------------------------------------------------
-- Seeded thresholds: the checklist's three alerts with its numbers, then the pipeline's rules
-- ---------------------------------------------------------------------------------------------------------
select results_eq(
  $$select threshold, unit, window_minutes from public.alert_thresholds where rule = 'manual_review_queue'$$,
  $$values (10::numeric, 'count'::text, null::integer)$$,
  'checklist alert 1: manual review queue count > 10');
select results_eq(
  $$select threshold, unit, window_minutes from public.alert_thresholds where rule = 'parse_failure_rate'$$,
  $$values (10::numeric, 'percent'::text, 60)$$,
  'checklist alert 2: parse failure rate > 10 % in the last hour');
select results_eq(
  $$select threshold, unit from public.alert_thresholds where rule = 'raw_storage_growth'$$,
  $$values (1024::numeric, 'megabytes'::text)$$,
  'checklist alert 3: raw storage growth > 1 GB/day (1024 MB over raw_storage_health''s 24 h)');
select results_eq(
  $$select rule, threshold, window_minutes from public.alert_thresholds where rule like 'stuck_%' order by rule$$,
  $$values ('stuck_generating'::text, 0::numeric, 10), ('stuck_parsing', 0, 10), ('stuck_raw_spooled', 0, 10),
           ('stuck_raw_stored', 0, 10)$$,
  'rows stuck more than 10 minutes in generating / raw_stored / parsing / raw_spooled fire on any row');
select set_eq(
  $$select rule from public.alert_thresholds$$,
  array['manual_review_queue', 'parse_failure_rate', 'raw_storage_growth', 'claude_failure_rate',
        'stuck_generating', 'stuck_raw_stored', 'stuck_parsing', 'stuck_raw_spooled', 'spooled_raw_waiting',
        'raw_orphans', 'upload_review_queue_per_user', 'failures_by_user', 'answers_lost', 'batch_overdue', 'batch_results_uncollected',
        'batch_results_missing'],
  'every rule of shared/monitor/rules.ts has a threshold row');
select is(
  (select count(*)::int from public.alert_thresholds where not enabled), 0, 'every rule starts enabled');

-- ---------------------------------------------------------------------------------------------------------
-- Operators change thresholds with SQL; bad values are refused
-- ---------------------------------------------------------------------------------------------------------
update public.alert_thresholds set threshold = 25, updated_at = '2000-01-01' where rule = 'manual_review_queue';
select is(
  (select threshold from public.alert_thresholds where rule = 'manual_review_queue'), 25::numeric,
  'an operator raises a threshold with one UPDATE');
select cmp_ok(
  (select updated_at from public.alert_thresholds where rule = 'manual_review_queue'), '>', '2000-01-01'::timestamptz,
  'updated_at records the change whatever the writer sends');
select throws_ok(
  $$update public.alert_thresholds set threshold = -1 where rule = 'raw_orphans'$$, '23514', null,
  'a negative threshold is refused');
select throws_ok(
  $$update public.alert_thresholds set worse_factor = 1 where rule = 'raw_orphans'$$, '23514', null,
  'worse_factor must be above 1 (otherwise every run would be "worse")');
select throws_ok(
  $$insert into public.alert_thresholds (rule, threshold, unit) values ('Bad Rule', 1, 'count')$$, '23514', null,
  'rule keys are snake_case');

-- ---------------------------------------------------------------------------------------------------------
-- alerts invariants
-- ---------------------------------------------------------------------------------------------------------
insert into public.alerts (rule, severity, fired_at, peak_value, threshold, last_evaluated_at, notice_value,
                           notice_queued_at)
values ('raw_orphans', 'warning', now(), 1, 0, now(), 1, now());
select throws_ok(
  $$insert into public.alerts (rule, severity, fired_at, peak_value, threshold, last_evaluated_at, notice_value,
                               notice_queued_at)
    values ('raw_orphans', 'warning', now(), 2, 0, now(), 2, now())$$,
  '23505', null, 'a second open alert for the same rule is refused');
select throws_ok(
  $$update public.alerts set resolved_at = now() where rule = 'raw_orphans'$$, '23514', null,
  'a resolved alert must carry the resolved notice (notice and resolved_at move together)');
select throws_ok(
  $$update public.alerts set resolved_at = fired_at - interval '1 minute', notice = 'resolved'
     where rule = 'raw_orphans'$$, '23514', null,
  'an alert cannot resolve before it fired');

-- ---------------------------------------------------------------------------------------------------------
-- RLS and privileges: internal tables, the service role only
-- ---------------------------------------------------------------------------------------------------------
select ok((select relrowsecurity from pg_class where oid = 'public.alert_thresholds'::regclass),
  'RLS is on for alert_thresholds');
select ok((select relrowsecurity from pg_class where oid = 'public.alerts'::regclass), 'RLS is on for alerts');
select ok(not has_table_privilege('anon', 'public.alerts', 'select'), 'anon cannot read alerts');
select ok(not has_table_privilege('authenticated', 'public.alerts', 'select'), 'users cannot read alerts');
select ok(not has_table_privilege('authenticated', 'public.alert_thresholds', 'update'),
  'users cannot change thresholds');
select ok(has_table_privilege('service_role', 'public.alert_thresholds', 'update'),
  'the service role can change thresholds');

do $$ begin perform tests.create_supabase_user('alert_reader'); end $$;
select tests.authenticate_as('alert_reader');
select throws_ok($$select count(*) from public.alerts$$, '42501', null,
  'a signed-in user querying alerts gets permission denied');
select tests.as_owner();
select tests.authenticate_as_service_role();
select is((select count(*)::int from public.alerts where rule = 'raw_orphans'), 1,
  'the service role reads alerts (it bypasses RLS)');
select tests.as_owner();

select * from finish();
rollback;
