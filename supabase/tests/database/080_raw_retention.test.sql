-- Raw retention (20251120000300_create_raw_retention_functions.sql): only the raw of conversations completed by
-- the parser and older than the cutoff is ever picked — never one in review, failed, dismissed, resolved by hand,
-- in flight or already deleted. Marks are bounded, taken back only by the run that made them, and a mark whose
-- object survived is found again.
begin;
select plan(18);

delete from public.conversations;
do $$ begin perform tests.create_supabase_user('retention_owner'); end $$;

create temp table fixture (label text primary key, conversation_id uuid);

create function pg_temp.conv(
  p_label text,
  p_status text,
  p_stored_days integer,
  p_review boolean default false,
  p_method text default null,
  p_has_raw boolean default true
) returns void
language sql
as $$
  with c as (
    insert into public.conversations (user_id, processing_status, created_at, raw_response_path, raw_response_size,
                                      raw_stored_at, requires_manual_review, parse_method_used)
    select tests.get_supabase_uid('retention_owner'), p_status, now() - make_interval(days => p_stored_days),
           case when p_has_raw then 'raw/' || tests.get_supabase_uid('retention_owner') || '/' || gen_random_uuid()
                || '.json' end,
           case when p_has_raw then 1000 end,
           case when p_has_raw then now() - make_interval(days => p_stored_days) end,
           p_review, p_method
    returning conversation_id
  )
  insert into fixture select p_label, conversation_id from c
$$;

create function pg_temp.id(p_label text) returns uuid
language sql
as $$ select conversation_id from fixture where label = p_label $$;

-- Eligible (30-day cutoff): parsed successfully, raw 40 and 35 days old.
select pg_temp.conv('old_direct', 'completed', 40, false, 'direct');
select pg_temp.conv('old_repaired', 'completed', 35, false, 'jsonrepair');
-- Not eligible.
select pg_temp.conv('recent_direct', 'completed', 5, false, 'direct');
select pg_temp.conv('in_review', 'parse_failed', 40, true);
select pg_temp.conv('dismissed', 'parse_failed', 40, false);
update public.conversations set dismissed_at = now(), dismissed_reason = 'spam' where conversation_id = pg_temp.id('dismissed');
select pg_temp.conv('resolved_by_hand', 'completed', 40, false, 'manual');
select pg_temp.conv('completed_but_flagged', 'completed', 40, true, 'extracted');
select pg_temp.conv('raw_stored', 'raw_stored', 40);
select pg_temp.conv('parsing', 'parsing', 40);
select pg_temp.conv('raw_spooled', 'raw_spooled', 40, false, null, false);
select pg_temp.conv('generation_failed', 'generation_failed', 40, false, null, false);
select pg_temp.conv('already_deleted', 'completed', 40, false, 'direct');
update public.conversations set raw_deleted_at = now() - interval '3 days'
 where conversation_id = pg_temp.id('already_deleted');

-- ---------------------------------------------------------------------------------------------------------
-- What is eligible
-- ---------------------------------------------------------------------------------------------------------
select results_eq(
  $$select conversation_id from private.raw_retention_candidates(now() - interval '30 days', 100)$$,
  $$select pg_temp.id('old_direct') union all select pg_temp.id('old_repaired')$$,
  'candidates: only completed-by-the-parser raw past the cutoff, oldest first');
select results_eq(
  $$select eligible, bytes from private.raw_retention_totals(now() - interval '30 days')$$,
  $$values (2::bigint, 2000::numeric)$$,
  'totals count the same rows and their raw bytes');
select is((select count(*)::int from private.raw_retention_candidates(now() - interval '100 days', 100)), 0,
  'nothing is older than 100 days');

-- ---------------------------------------------------------------------------------------------------------
-- Marking: bounded batches, the same rows the dry run listed
-- ---------------------------------------------------------------------------------------------------------
select results_eq(
  $$select conversation_id from private.mark_raw_deleted(now() - interval '30 days', 1, now() - interval '1 hour')$$,
  $$select pg_temp.id('old_direct')$$,
  'a batch of 1 marks the oldest eligible row');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('old_direct')),
  now() - interval '1 hour', 'the mark is the run''s time');
select results_eq(
  $$select conversation_id from private.mark_raw_deleted(now() - interval '30 days', 100, now() - interval '1 hour')$$,
  $$select conversation_id from private.raw_retention_candidates(now() - interval '30 days', 100)
     union all select null::uuid where false$$,
  'the next batch marks exactly what the candidates list still showed');
select is((select count(*)::int from private.raw_retention_candidates(now() - interval '30 days', 100)), 0,
  'nothing eligible is left');
select is((select count(*)::int from private.mark_raw_deleted(now() - interval '30 days', 100, now())), 0,
  'marking again marks nothing');

-- ---------------------------------------------------------------------------------------------------------
-- Reviewable and in-flight raw is never touched
-- ---------------------------------------------------------------------------------------------------------
select is(
  (select count(*)::int from public.conversations
    where raw_deleted_at is not null
      and conversation_id not in (pg_temp.id('old_direct'), pg_temp.id('old_repaired'), pg_temp.id('already_deleted'))),
  0, 'no row other than the two eligible ones got a mark');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('in_review')), null,
  'the raw of a conversation in review is never marked');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('dismissed')), null,
  'the raw of a dismissed (failed) conversation is kept');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('resolved_by_hand')),
  null, 'the raw of a conversation a person resolved is kept');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('parsing')), null,
  'in-flight raw (parsing) is never marked, however old');

-- ---------------------------------------------------------------------------------------------------------
-- Unmark after a Storage failure: only this run's marks
-- ---------------------------------------------------------------------------------------------------------
select is(private.unmark_raw_deleted(
    array[pg_temp.id('old_direct'), pg_temp.id('already_deleted')], now() - interval '1 hour'), 1,
  'unmark takes back this run''s mark and leaves an older run''s alone');
select is((select raw_deleted_at from public.conversations where conversation_id = pg_temp.id('already_deleted'))
  is not null, true, 'the earlier deletion stays recorded');
select is((select count(*)::int from private.raw_retention_candidates(now() - interval '30 days', 100)), 1,
  'the unmarked row is eligible again');

-- ---------------------------------------------------------------------------------------------------------
-- Unfinished deletions: a mark whose object still exists
-- ---------------------------------------------------------------------------------------------------------
-- Object rows written without triggers (the raw trigger would re-mark these rows as new uploads).
set local session_replication_role = replica;
insert into storage.objects (bucket_id, name, metadata)
select 'conversation-files', raw_response_path, '{"size": 1000}'::jsonb
  from public.conversations where conversation_id in (pg_temp.id('old_repaired'), pg_temp.id('already_deleted'));
set local session_replication_role = origin;
select results_eq(
  $$select conversation_id from private.raw_deletions_unfinished(now() - interval '7 days', now(), 10)$$,
  $$select pg_temp.id('already_deleted') union all select pg_temp.id('old_repaired')$$,
  'marked rows whose object still exists are found, oldest mark first');
select is((select count(*)::int from private.raw_deletions_unfinished(now() - interval '7 days',
  now() - interval '4 days', 10)), 0, 'a mark younger than the grace period is left to the run that made it');

select * from finish();
rollback;
