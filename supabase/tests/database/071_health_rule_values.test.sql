-- private.health_rule_values: each rule's number on a known fixture, windows read from alert_thresholds, and
-- private.health_overview. The fixture starts from an empty conversations table (inside this rolled-back
-- transaction), so every expected number below is exact.
begin;
select plan(23);

delete from public.conversations;
do $$ begin perform tests.create_supabase_user('health_owner'); end $$;

-- One fixture row. p_age: how long ago it was created; p_stored_age: how long ago its raw was stored (null: no
-- raw path); p_size in MiB.
create function pg_temp.conv(
  p_status text,
  p_age interval,
  p_stored_age interval default null,
  p_size_mib numeric default 0,
  p_review boolean default false,
  p_method text default null,
  p_error text default null
) returns uuid
language sql
as $$
  insert into public.conversations (user_id, processing_status, created_at, updated_at, raw_response_path,
                                    raw_response_size, raw_stored_at, requires_manual_review, parse_method_used,
                                    parse_error_message, generation_error)
  select tests.get_supabase_uid('health_owner'), p_status, now() - p_age, now() - coalesce(p_stored_age, p_age),
         case when p_stored_age is not null then 'raw/' || tests.get_supabase_uid('health_owner') || '/' ||
              gen_random_uuid() || '.json' end,
         case when p_stored_age is not null then (p_size_mib * 1024 * 1024)::bigint end,
         now() - p_stored_age, p_review, p_method,
         case when p_status = 'parse_failed' then p_error end,
         case when p_status = 'generation_failed' then p_error end
  returning conversation_id
$$;

create function pg_temp.rule_value(p_rule text) returns numeric
language sql
as $$ select value from private.health_rule_values() where rule = p_rule $$;

create function pg_temp.rule_sample(p_rule text) returns bigint
language sql
as $$ select sample from private.health_rule_values() where rule = p_rule $$;

-- ---------------------------------------------------------------------------------------------------------
-- Empty: every rule reads 0 (healthy), none unavailable
-- ---------------------------------------------------------------------------------------------------------
select is((select count(*)::int from private.health_rule_values()), 11, 'one row per rule');
select is((select count(*)::int from private.health_rule_values() where value <> 0 or value is null), 0,
  'an empty pipeline reads 0 on every rule');

-- ---------------------------------------------------------------------------------------------------------
-- Fixture
-- ---------------------------------------------------------------------------------------------------------
-- Fixture rows are written in one block so that pg_prove's output stays TAP only.
do $$
begin
  -- A: 11 items in review from 3 hours ago (outside the rate windows), 1 MiB of raw each.
  perform pg_temp.conv('parse_failed', '3 hours', '3 hours', 1, true, null, 'Cannot parse: not JSON')
    from generate_series(1, 11);
  -- B: the last hour's parses: 6 direct (200 MiB each), 2 failed, 1 resolved by hand, 1 not parsed yet.
  perform pg_temp.conv('completed', '30 minutes', '29 minutes', 200, false, 'direct') from generate_series(1, 6);
  perform pg_temp.conv('parse_failed', '30 minutes', '29 minutes', 0, true, null, 'Cannot validate: turns missing')
    from generate_series(1, 2);
  perform pg_temp.conv('completed', '30 minutes', '29 minutes', 0, false, 'manual');
  perform pg_temp.conv('raw_stored', '2 minutes', '1 minute');
  -- C: Claude failures in the last hour, and one from yesterday (outside the window).
  perform pg_temp.conv('generation_failed', '20 minutes', null, 0, false, null, 'overloaded_error after 4 attempts')
    from generate_series(1, 3);
  perform pg_temp.conv('generation_failed', '1 day', null, 0, false, null, 'old failure');
  -- D: stuck and not-yet-stuck rows of each non-terminal status (the default window is 10 minutes).
  perform pg_temp.conv('generating', '15 minutes') from generate_series(1, 2);
  perform pg_temp.conv('generating', '2 minutes');
  perform pg_temp.conv('raw_stored', '25 minutes', '20 minutes');
  perform pg_temp.conv('parsing', '13 minutes', '12 minutes');
  insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, created_at, upload_attempts,
                                         last_error)
  select c, tests.get_supabase_uid('health_owner'), convert_to('{"x":1}', 'UTF8'),
         encode(sha256(convert_to('{"x":1}', 'UTF8')), 'hex'), 7, now() - age, attempts, 'Storage answered 503'
    from (values (pg_temp.conv('raw_spooled', '11 minutes'), interval '11 minutes', 9),
                 (pg_temp.conv('raw_spooled', '1 minute'), interval '1 minute', 1)) v(c, age, attempts);
end
$$;

-- ---------------------------------------------------------------------------------------------------------
-- The checklist's three
-- ---------------------------------------------------------------------------------------------------------
select is(pg_temp.rule_value('manual_review_queue'), 13::numeric,
  'manual_review_queue counts every requires_manual_review row (11 old + 2 recent)');
select is(pg_temp.rule_value('parse_failure_rate'), 33.33,
  'parse_failure_rate: (2 failed + 1 manual) / 9 finished in the last hour, in percent');
select is(pg_temp.rule_sample('parse_failure_rate'), 9::bigint,
  'parse_failure_rate''s sample is the finished parses (pending and old rows excluded)');
select is((select details -> 'top_errors' -> 0 ->> 'message' from private.health_rule_values()
            where rule = 'parse_failure_rate'), 'Cannot validate: turns missing',
  'parse_failure_rate details name the top error of the window');
select is(pg_temp.rule_value('raw_storage_growth'), 1211.00::numeric,
  'raw_storage_growth is raw_storage_health.raw_storage_mb: 11 + 6 × 200 MiB in 24 h');
select is(pg_temp.rule_value('raw_storage_growth'), (select round(raw_storage_mb, 2) from public.raw_storage_health),
  'raw_storage_growth reads the checklist view, not a copy of it');

-- ---------------------------------------------------------------------------------------------------------
-- The pipeline's own
-- ---------------------------------------------------------------------------------------------------------
-- Created in the last hour and past generating: B (10) + C (3) + D's raw_stored, parsing, 2 raw_spooled (4) = 17.
select is(pg_temp.rule_sample('claude_failure_rate'), 17::bigint,
  'claude_failure_rate''s sample is the last hour''s rows that finished generating');
select is(pg_temp.rule_value('claude_failure_rate'), round(100.0 * 3 / 17, 2),
  'claude_failure_rate: 3 generation_failed of 17, yesterday''s failure excluded');
select is(pg_temp.rule_value('stuck_generating'), 2::numeric, 'two rows generating for 15 minutes are stuck');
select is(pg_temp.rule_value('stuck_raw_stored'), 1::numeric,
  'a row raw_stored 20 minutes ago is stuck, one stored a minute ago is not');
select is(pg_temp.rule_value('stuck_parsing'), 1::numeric, 'a row parsing since its raw came 12 minutes ago is stuck');
select is(pg_temp.rule_value('stuck_raw_spooled'), 1::numeric,
  'a row spooled 11 minutes ago is stuck, one spooled a minute ago is not');
select is((select jsonb_array_length(details -> 'conversation_ids') from private.health_rule_values()
            where rule = 'stuck_generating'), 2, 'stuck rules name the stuck conversations');
select is(pg_temp.rule_value('spooled_raw_waiting'), 2::numeric, 'spooled_raw_waiting counts every spool row');
select is((select (details ->> 'max_upload_attempts')::int from private.health_rule_values()
            where rule = 'spooled_raw_waiting'), 9, 'spooled_raw_waiting details carry the upload attempts');
select is(pg_temp.rule_value('raw_orphans'), (select count(*)::numeric from public.raw_orphans),
  'raw_orphans reads the raw_orphans view (fixture rows have no objects: rows without objects)');
select cmp_ok(pg_temp.rule_value('raw_orphans'), '>', 0::numeric, 'and that count is not zero here');

-- ---------------------------------------------------------------------------------------------------------
-- Operators move the windows with SQL
-- ---------------------------------------------------------------------------------------------------------
update public.alert_thresholds set window_minutes = 20 where rule = 'stuck_generating';
select is(pg_temp.rule_value('stuck_generating'), 0::numeric,
  'with window_minutes = 20, rows generating for 15 minutes are no longer stuck');
update public.alert_thresholds set window_minutes = 240 where rule = 'parse_failure_rate';
select is(pg_temp.rule_sample('parse_failure_rate'), 20::bigint,
  'a 4-hour parse window also counts the 11 failures from 3 hours ago');

-- ---------------------------------------------------------------------------------------------------------
-- Overview
-- ---------------------------------------------------------------------------------------------------------
select is((private.health_overview() -> 'status_counts' ->> 'generating')::int, 3,
  'health_overview counts the last 24 hours by status');
select is((private.health_overview() -> 'raw_storage_health' ->> 'manual_review_count')::int, 13,
  'health_overview carries the raw_storage_health row');

select * from finish();
rollback;
