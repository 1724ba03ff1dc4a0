-- Monitoring views (supabase/migrations/20251117000800_create_monitoring_views.sql): raw_storage_health's
-- numbers on a known fixture, the hourly views and error patterns, the 24-hour window's edges, and
-- security_invoker (each caller sees figures for the rows their RLS allows).
begin;
select plan(19);

select tests.create_supabase_user('t040_m') as m \gset
select tests.create_supabase_user('t040_n') as n \gset

-- Fixture for user M. Sizes in bytes; 1 MiB = 1048576. Every age is relative to now() (the transaction start),
-- so the hour buckets below are computed with the same expression the views use. Rows tested by hour are at
-- least 60 minutes apart from any other row, so they never share a bucket whatever the time of day.
--   label  age            raw?  method      review  error                  size     attempts
--   r1     10 min         yes   direct      no                              2097152  1
--   r2     10 min         yes   jsonrepair  no                              1048576  2
--   r3     2 h            yes   -           yes     Unterminated string     524288   1
--   r4     2 h            yes   -           yes     Unterminated string     524288   3
--   r5     3 h            yes   extracted   no                              1048576  1
--   r6     23 h 59 min    yes   direct      no                              1048576  1   (inside the window)
--   r7     24 h 0 min 1 s yes   direct      no                              1048576  1   (outside)
--   r8     7 h            no    -           no                              -        0   (still generating)
--   r9     5 h            yes   -           yes     Refusal                 262144   1
--   r10    25 h           yes   -           yes     Old error               262144   1   (outside)
--   r11    4 h            yes   -           no                              131072   0   (raw stored, not parsed)
insert into public.conversations (user_id, created_at, processing_status, raw_response_path, parse_method_used,
  requires_manual_review, parse_error_message, raw_response_size, parse_attempts)
select :'m', now() - age, status, case when has_raw then 'raw/m/x.json' end, method, review, err, size, attempts
  from (values
    (interval '10 minutes', 'completed', true, 'direct', false, null, 2097152, 1),
    (interval '10 minutes', 'completed', true, 'jsonrepair', false, null, 1048576, 2),
    (interval '2 hours', 'parse_failed', true, null, true, 'Unterminated string', 524288, 1),
    (interval '2 hours', 'parse_failed', true, null, true, 'Unterminated string', 524288, 3),
    (interval '3 hours', 'completed', true, 'extracted', false, null, 1048576, 1),
    (interval '23 hours 59 minutes', 'completed', true, 'direct', false, null, 1048576, 1),
    (interval '24 hours 1 second', 'completed', true, 'direct', false, null, 1048576, 1),
    (interval '7 hours', 'generating', false, null, false, null, null, 0),
    (interval '5 hours', 'parse_failed', true, null, true, 'Refusal', 262144, 1),
    (interval '25 hours', 'parse_failed', true, null, true, 'Old error', 262144, 1),
    (interval '4 hours', 'raw_stored', true, null, false, null, 131072, 0)
  ) f(age, status, has_raw, method, review, err, size, attempts);
-- One row of N's, to show that M never sees it.
insert into public.conversations (user_id, created_at, processing_status, raw_response_path, parse_method_used,
  raw_response_size, parse_attempts)
values (:'n', now() - interval '10 minutes', 'completed', 'raw/n/x.json', 'direct', 1048576, 1);

-- ============================================================================================================
-- Shape
-- ============================================================================================================
select ok((select 'security_invoker=true' = any(reloptions) from pg_class where oid = ('public.' || v)::regclass),
          format('%s is security_invoker', v))
  from unnest(array['raw_storage_health', 'parse_success_hourly', 'storage_growth_hourly',
                    'parse_error_patterns']) v;
select columns_are('public', 'raw_storage_health',
  array['total_conversations', 'manual_review_count', 'direct_parse_count', 'jsonrepair_count', 'raw_storage_mb',
        'avg_parse_attempts'],
  'raw_storage_health has the checklist''s six columns');

-- ============================================================================================================
-- User M: the checklist's view on a known fixture
-- ============================================================================================================
select tests.authenticate_as('t040_m');
select results_eq(
  $$select total_conversations, manual_review_count, direct_parse_count, jsonrepair_count, raw_storage_mb,
           round(avg_parse_attempts, 4) from public.raw_storage_health$$,
  $$values (8::bigint, 3::bigint, 2::bigint, 1::bigint, 6.375::numeric, 1.2500::numeric)$$,
  'raw_storage_health: 8 raw-stored rows in 24 h, 3 in review, 2 direct, 1 jsonrepair, 6.375 MiB, 1.25 attempts');

-- parse_success_hourly
select is((select sum(total)::int from public.parse_success_hourly), 8,
  'parse_success_hourly counts the same 8 rows as the health view');
select results_eq(
  $$select total, direct, failed, extracted, jsonrepair, manual, pending, failure_rate_pct
      from public.parse_success_hourly where hour = date_trunc('hour', now() - interval '10 minutes')$$,
  $$values (2::bigint, 1::bigint, 0::bigint, 0::bigint, 1::bigint, 0::bigint, 0::bigint, 0.00::numeric)$$,
  'the latest hour: 2 rows, 1 direct, 1 jsonrepair, none failed');
select results_eq(
  $$select total, failed, failure_rate_pct
      from public.parse_success_hourly where hour = date_trunc('hour', now() - interval '2 hours')$$,
  $$values (2::bigint, 2::bigint, 100.00::numeric)$$,
  'the hour with two failures: failure rate 100.00 %');
select results_eq(
  $$select total, pending from public.parse_success_hourly where hour = date_trunc('hour', now() - interval '4 hours')$$,
  $$values (1::bigint, 1::bigint)$$,
  'a raw-stored row not parsed yet counts as pending, not as a failure');
select is_empty(
  $$select 1 from public.parse_success_hourly where hour = date_trunc('hour', now() - interval '7 hours')$$,
  'a row without a raw response (still generating) is not counted');

-- storage_growth_hourly
select results_eq(
  $$select sum(conversations)::int, sum(mb_per_hour) from public.storage_growth_hourly$$,
  $$values (8, 6.375::numeric)$$,
  'storage_growth_hourly adds up to the health view''s totals');
select results_eq(
  $$select conversations, mb_per_hour from public.storage_growth_hourly
     where hour = date_trunc('hour', now() - interval '10 minutes')$$,
  $$values (2::bigint, 3::numeric)$$,
  'the latest hour stored 2 raw responses, 3 MiB');

-- parse_error_patterns
select results_eq(
  $$select parse_error_message, count from public.parse_error_patterns order by count desc$$,
  $$values ('Unterminated string'::text, 2::bigint), ('Refusal', 1::bigint)$$,
  'parse_error_patterns: why the last 24 hours'' conversations went to review, most frequent first');

-- ============================================================================================================
-- security_invoker: N and the service role
-- ============================================================================================================
select tests.authenticate_as('t040_n');
select results_eq(
  $$select total_conversations, direct_parse_count, raw_storage_mb from public.raw_storage_health$$,
  $$values (1::bigint, 1::bigint, 1::numeric)$$,
  'N sees only their own row in the health view (RLS applies through the view)');
select is_empty($$select 1 from public.parse_error_patterns$$, 'N sees none of M''s error patterns');

select tests.authenticate_as_service_role();
select cmp_ok((select total_conversations::int from public.raw_storage_health), '>=', 9,
  'the service role (the monitor) sees every user''s rows');
select cmp_ok((select raw_storage_mb from public.raw_storage_health), '>=', 7.375::numeric,
  'and every user''s megabytes');
select tests.as_owner();

-- ============================================================================================================
-- Edges of the window
-- ============================================================================================================
update public.conversations set created_at = now() - interval '24 hours'
 where user_id = :'m' and created_at = now() - interval '23 hours 59 minutes';
select tests.authenticate_as('t040_m');
select is((select total_conversations::int from public.raw_storage_health), 7,
  'a row exactly 24 hours old is outside the window (created_at > now() - 24 hours)');
select tests.as_owner();

select * from finish();
rollback;
