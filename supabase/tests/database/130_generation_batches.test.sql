-- Batch generation (20251210000000_create_generation_batches.sql): the `batch_queued` status and its exits, the
-- batches table's rules, provenance, the all-or-nothing batch reservation, stale submits, the results bucket
-- and the collector's cron job.
begin;
set local client_min_messages = error;
select plan(24);

-- Exact monitor numbers below: start from no batches (rolled back).
delete from public.generation_batches;

select tests.create_supabase_user('t130_owner') as owner \gset
select gen_random_uuid() as b1 \gset
select gen_random_uuid() as b2 \gset
select gen_random_uuid() as c1 \gset
select gen_random_uuid() as c2 \gset
select gen_random_uuid() as c3 \gset

-- The batches table.
select lives_ok(
  format($$insert into public.generation_batches (id, user_id, request_count, model, request_hash, idempotency_key)
           values (%L, %L, 2, 'claude-sonnet-4-5', repeat('a', 64), 'key-1')$$, :'b1', :'owner'),
  'a batch row: submitting by default');
select is((select state from public.generation_batches where id = :'b1'), 'submitting', 'the first state is submitting');
select throws_ok(
  format($$insert into public.generation_batches (user_id, request_count, model, request_hash, idempotency_key)
           values (%L, 1, 'm', repeat('b', 64), 'key-1')$$, :'owner'),
  '23505', null, 'one batch per user and Idempotency-Key');
select throws_ok(
  format($$update public.generation_batches set state = 'lost' where id = %L$$, :'b1'),
  '23514', null, 'an unknown batch state is refused');
select throws_ok(
  format($$update public.generation_batches set results_sha256 = repeat('c', 64) where id = %L$$, :'b1'),
  '23514', null, 'a results sha256 without its parts and time is refused');
select throws_ok(
  format($$insert into public.generation_batches (user_id, request_count, model, request_hash)
           values (%L, 0, 'm', repeat('b', 64))$$, :'owner'),
  '23514', null, 'a batch holds at least one request');

-- batch_queued conversations.
insert into public.conversations (conversation_id, user_id, processing_status, batch_id, raw_sha256)
values (:'c1', :'owner', 'batch_queued', :'b1', repeat('d', 64)),
       (:'c2', :'owner', 'batch_queued', :'b1', null);
select is((select source from public.conversations where conversation_id = :'c1'), 'generated',
  'a batch_queued row is generated (provenance)');
select throws_ok(
  format($$update public.conversations set processing_status = 'batch_waiting' where conversation_id = %L$$, :'c1'),
  '23514', null, 'the status check still refuses unknown statuses');

-- The collector's upload: the unchanged storage trigger marks the row raw_stored in the object's transaction.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || :'c1' || '.json', '{"size": 1234}');
reset role;
select results_eq(
  format($$select processing_status, raw_response_size from public.conversations where conversation_id = %L$$, :'c1'),
  $$values ('raw_stored'::varchar, 1234::bigint)$$,
  'a raw object for a batch_queued row marks it raw_stored (the storage trigger, unchanged)');

-- Stale submits: a batch still submitting after the delay fails with its queued conversations.
update public.generation_batches set created_at = now() - interval '1 hour' where id = :'b1';
insert into public.generation_batches (id, user_id, request_count, model, request_hash)
values (:'b2', :'owner', 1, 'claude-sonnet-4-5', repeat('e', 64));
insert into public.conversations (conversation_id, user_id, processing_status, batch_id)
values (:'c3', :'owner', 'batch_queued', :'b2');
select results_eq(
  $$select batch_id::text, conversations from private.fail_stale_batch_submits(interval '15 minutes')$$,
  format($$values (%L::text, 1)$$, :'b1'),
  'fail_stale_batch_submits() fails the old submitting batch and its one queued conversation');
select is((select state from public.generation_batches where id = :'b1'), 'failed', 'the stale batch is failed');
select results_eq(
  format($$select processing_status, generation_error like 'batch_not_submitted%%'
             from public.conversations where conversation_id = %L$$, :'c2'),
  $$values ('generation_failed'::varchar, true)$$,
  'its queued conversation is generation_failed with the reason');
select is((select processing_status from public.conversations where conversation_id = :'c1'), 'raw_stored',
  'a conversation already stored is left as it is');
select is((select state from public.generation_batches where id = :'b2'), 'submitting', 'a fresh submit is left alone');

-- The reservation: N request units and the tokens, both or neither.
update private.usage_limits set max_amount = 5, applies_to_service = false
 where user_id is null and limit_name = 'generate_requests_per_minute';
update private.usage_limits set max_amount = 10000, applies_to_service = false
 where user_id is null and limit_name = 'generate_output_tokens_per_day';
select ok((select allowed from private.reserve_batch(:'owner', 3, 6000)), 'a batch of 3 fits in 5 per minute');
select results_eq(
  format($$select allowed, refused_limit from private.reserve_batch(%L, 3, 100)$$, :'owner'),
  $$values (false, 'generate_requests_per_minute'::text)$$,
  'a second batch of 3 does not: refused by request units');
select results_eq(
  format($$select allowed, refused_limit from private.reserve_batch(%L, 1, 5000)$$, :'owner'),
  $$values (false, 'generate_output_tokens_per_day'::text)$$,
  'a batch over the token budget is refused');
select is(
  (select used::int from private.usage_counters where user_id = :'owner' and limit_name = 'generate_requests_per_minute'),
  3, 'refused batches charged no request unit');

-- The results bucket and the collector's schedule.
select results_eq(
  $$select public, allowed_mime_types from storage.buckets where id = 'batch-results'$$,
  $$values (false, array['application/x-ndjson'])$$,
  'batch-results is private and takes JSONL');
select is((select schedule from cron.job where jobname = 'collect-batches'), '* * * * *',
  'collect-batches runs every minute');
select matches((select command from cron.job where jobname = 'collect-batches'),
  'where exists \(select 1 from public.generation_batches',
  'and calls the collector only while a batch is open');

-- The monitor's batch rules.
insert into public.generation_batches (user_id, request_count, model, request_hash, state, expires_at, created_at)
values (:'owner', 1, 'm', repeat('f', 64), 'in_progress', now() - interval '2 hours', now() - interval '26 hours');
insert into public.generation_batches (user_id, request_count, model, request_hash, state, ended_at)
values (:'owner', 1, 'm', repeat('f', 64), 'ended', now() - interval '1 hour');
insert into public.generation_batches (user_id, request_count, model, request_hash, state, ended_at, collected_at,
  missing_count, unknown_count)
values (:'owner', 3, 'm', repeat('f', 64), 'collected', now(), now(), 2, 1);
select is((select value from private.batch_rule_values() where rule = 'batch_overdue'), 1::numeric,
  'batch_overdue: the in_progress batch 2 h past expires_at (the fresh submit b2 is not overdue)');
select is((select value from private.batch_rule_values() where rule = 'batch_results_uncollected'), 1::numeric,
  'batch_results_uncollected: the batch ended an hour ago and not collected');
select is((select value from private.batch_rule_values() where rule = 'batch_results_missing'), 3::numeric,
  'batch_results_missing: missing results and unknown lines of the batches collected in the window');

select * from finish();
rollback;
