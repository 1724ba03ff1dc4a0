-- The sweeper's two jobs, private.sweep_conversations() and private.reconcile_raw_objects(), and their schedule
-- (supabase/migrations/20251119000300_create_conversation_sweeper.sql, …000400_schedule_conversation_sweeper.sql),
-- and the raw_orphans view (…000200_create_raw_orphans_view.sql). pg_cron ticks once a minute, so the tests call
-- the function directly with p_now and read the wake-ups it queued in net.http_request_queue.
begin;
set local client_min_messages = error;
select plan(34);

-- A clean slate inside this transaction (rolled back at the end), so counts are this file's alone.
set local storage.allow_delete_query = 'true';
delete from storage.objects where bucket_id = 'conversation-files';
delete from public.conversations;
delete from net.http_request_queue;
delete from vault.secrets where name in ('project_url', 'service_role_key');
select vault.create_secret('http://127.0.0.1:9', 'project_url');
select vault.create_secret('test-service-key', 'service_role_key');

select tests.create_supabase_user('t052_owner') as owner \gset
create temporary table t052 (label text primary key, id uuid not null default gen_random_uuid());
insert into t052 (label) values ('fresh'), ('lost'), ('backoff'), ('due'), ('expired'), ('orphan'),
  ('unmarked'), ('spooled'), ('missing'), ('nouser_u'), ('nouser_c');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t052 where label = p_label $$;
create function pg_temp.path(p_user uuid, p_label text) returns text language sql as $$
  select 'raw/' || p_user || '/' || pg_temp.id(p_label) || '.json'
$$;
-- Conversation ids named in queued parse-conversation batches.
create function pg_temp.dispatched() returns setof uuid language sql as $$
  select jsonb_array_elements_text(convert_from(body, 'UTF8')::jsonb -> 'conversation_ids')::uuid
    from net.http_request_queue where url like '%/functions/v1/parse-conversation'
$$;

-- ============================================================================================================
-- Schedule
-- ============================================================================================================
select results_eq(
  $$select format('%s | %s | %s', jobname::text collate "default", schedule, command) from cron.job
     where jobname in ('sweep-conversations', 'reconcile-raw-objects') order by jobname$$,
  $$values ('reconcile-raw-objects | */10 * * * * | select private.reconcile_raw_objects()'),
           ('sweep-conversations | * * * * * | select private.sweep_conversations()')$$,
  'pg_cron runs the sweeper every minute and the object reconciliation every ten');
select ok((select bool_and(prosecdef and proconfig @> array['search_path=""']) from pg_proc
            where oid in ('private.sweep_conversations'::regproc, 'private.reconcile_raw_objects'::regproc)),
  'both are security definer with an empty search_path');

-- ============================================================================================================
-- Fixtures, as the pipeline leaves them (the trigger is switched off while objects are placed, so each row
-- is exactly in the state under test)
-- ============================================================================================================
alter table storage.objects disable trigger on_raw_object_stored;
insert into storage.objects (bucket_id, name, created_at)
select 'conversation-files', pg_temp.path(:'owner', label), now() - interval '10 minutes'
  from t052 where label in ('fresh', 'lost', 'backoff', 'due', 'expired', 'orphan', 'unmarked');
insert into storage.objects (bucket_id, name, created_at)
values ('conversation-files', 'raw/' || pg_temp.id('nouser_u') || '/' || pg_temp.id('nouser_c') || '.json',
        now() - interval '10 minutes');
alter table storage.objects enable trigger on_raw_object_stored;

insert into public.conversations (conversation_id, user_id, processing_status, raw_response_path, raw_stored_at,
                                  next_attempt_at, claimed_until, parse_attempts)
values
  -- stored 5 s ago: its own wake-up is probably in flight
  (pg_temp.id('fresh'), :'owner', 'raw_stored', pg_temp.path(:'owner', 'fresh'), now() - interval '5 seconds',
   now() - interval '5 seconds', null, 0),
  -- stored 2 minutes ago and never claimed: the wake-up was lost
  (pg_temp.id('lost'), :'owner', 'raw_stored', pg_temp.path(:'owner', 'lost'), now() - interval '2 minutes',
   now() - interval '2 minutes', null, 0),
  -- released after an infrastructure error, due in 5 minutes
  (pg_temp.id('backoff'), :'owner', 'raw_stored', pg_temp.path(:'owner', 'backoff'), now() - interval '9 minutes',
   now() + interval '5 minutes', null, 1),
  -- released, backoff over
  (pg_temp.id('due'), :'owner', 'raw_stored', pg_temp.path(:'owner', 'due'), now() - interval '9 minutes',
   now() - interval '1 second', null, 2),
  -- claimed, then the worker died: lease over
  (pg_temp.id('expired'), :'owner', 'parsing', pg_temp.path(:'owner', 'expired'), now() - interval '9 minutes',
   null, now() - interval '1 second', 1),
  -- the trigger's recording failed: object stored, row still generating
  (pg_temp.id('unmarked'), :'owner', 'generating', null, null, null, null, 0),
  -- Storage was down at generation
  (pg_temp.id('spooled'), :'owner', 'raw_spooled', null, null, null, null, 0),
  -- raw_stored but the object is gone
  (pg_temp.id('missing'), :'owner', 'raw_stored', pg_temp.path(:'owner', 'missing'), now() - interval '1 minute',
   now() + interval '1 hour', null, 0);
insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
values (pg_temp.id('spooled'), :'owner', 'xyz', encode(sha256('xyz'), 'hex'), 3);

-- ============================================================================================================
-- The orphan report, before the sweep
-- ============================================================================================================
select set_eq(
  $$select kind || '/' || detail || '/' || conversation_id from public.raw_orphans$$,
  format($$values ('object_without_row/no_row/%s'), ('object_without_row/no_auth_user/%s'),
                  ('object_unmarked/not_marked_raw_stored/%s'), ('row_without_object/object_missing/%s')$$,
         pg_temp.id('orphan'), pg_temp.id('nouser_c'), pg_temp.id('unmarked'), pg_temp.id('missing')),
  'raw_orphans lists objects without rows, unmarked objects and rows without objects');
select is((select processing_status from public.raw_orphans where conversation_id = pg_temp.id('missing')),
  'raw_stored', 'with the row''s status');

-- ============================================================================================================
-- One sweep: the queue
-- ============================================================================================================
select private.sweep_conversations(now()) as summary \gset
select is((:'summary'::jsonb ->> 'reclaimed')::int, 1, 'one expired claim was reclaimed');
select results_eq(
  format($$select processing_status::text, claimed_until from public.conversations where conversation_id = %L$$,
         pg_temp.id('expired')),
  $$values ('raw_stored', null::timestamptz)$$, 'the expired row is claimable again');
select is((select error_code from public.conversation_parse_attempts where conversation_id = pg_temp.id('expired')),
  'claim_expired', 'and its vanished attempt is logged');
select set_eq($$select * from pg_temp.dispatched()$$,
  format($$values (%L::uuid), (%L::uuid), (%L::uuid)$$, pg_temp.id('lost'), pg_temp.id('due'), pg_temp.id('expired')),
  'the lost, the due and the reclaimed rows are dispatched');
select ok(pg_temp.id('fresh') not in (select * from pg_temp.dispatched()), 'a fresh row is left to its own wake-up');
select ok(pg_temp.id('backoff') not in (select * from pg_temp.dispatched()), 'a row in backoff waits');
select is((select count(*)::int from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ? 'conversation_ids'), 1, 'in one request');
select is((select convert_from(body, 'UTF8')::jsonb ->> 'source' from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ? 'conversation_ids'), 'sweeper', 'marked as the sweeper''s');
select is((select timeout_milliseconds from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ? 'conversation_ids'), 30000, 'with a 30 s timeout for the batch');
select is((select count(*)::int from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb @> '{"flush_spool": true}'), 1,
  'the due spool row makes one flush request');
select is((:'summary'::jsonb ->> 'rows_without_object')::int, 1, 'the row without its object is counted');
select is((:'summary'::jsonb ->> 'requests_not_sent')::int, 0, 'every wake-up was queued');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('orphan')),
  null, 'the sweep itself does not scan objects');

-- ============================================================================================================
-- The reconciliation: objects the trigger did not record
-- ============================================================================================================
delete from net.http_request_queue;
select private.reconcile_raw_objects(now()) as reconciled \gset
select is((:'reconciled'::jsonb ->> 'objects_recorded')::int, 2, 'two unrecorded objects were recorded');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('orphan')),
  'raw_stored', 'the orphan object got its row, as the trigger would have made it');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('unmarked')),
  'raw_stored', 'the unmarked row is marked');
select is((select count(*)::int from public.conversations where conversation_id = pg_temp.id('nouser_c')), 0,
  'an object whose path names no user stays unrecorded (the report keeps showing it)');
select set_eq($$select * from pg_temp.dispatched()$$,
  format($$values (%L::uuid), (%L::uuid)$$, pg_temp.id('orphan'), pg_temp.id('unmarked')),
  'and both are woken at once');
select is((private.reconcile_raw_objects(now()) ->> 'objects_recorded')::int, 0, 'a second run finds nothing');
select is((private.reconcile_raw_objects(now() + interval '2 days') ->> 'objects_recorded')::int, 0,
  'objects older than the window are left to raw_orphans and a person');

-- A sweep a minute later: only what is still raw_stored (wake-ups are idempotent).
delete from net.http_request_queue;
update public.conversations set processing_status = 'completed'
 where conversation_id in (select id from t052 where label in ('lost', 'due', 'expired', 'orphan', 'unmarked'));
delete from public.raw_response_spool;
select private.sweep_conversations(now() + interval '1 minute') as summary2 \gset
select set_eq($$select * from pg_temp.dispatched()$$, format($$values (%L::uuid)$$, pg_temp.id('fresh')),
  'a minute later only the row whose wake-up never came is dispatched');
select is((select count(*)::int from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ? 'flush_spool'), 0, 'no flush without due spool rows');

-- ============================================================================================================
-- Bounded batches
-- ============================================================================================================
delete from net.http_request_queue;
insert into public.conversations (user_id, processing_status, raw_response_path, raw_stored_at)
select :'owner', 'raw_stored', 'raw/x/' || g, now() - interval '1 hour' from generate_series(1, 130) g;
select private.sweep_conversations(now() + interval '2 minutes', 120) as summary3 \gset
select is((:'summary3'::jsonb ->> 'dispatched')::int, 120, 'a sweep dispatches at most p_batch rows');
select is((:'summary3'::jsonb ->> 'requests')::int, 3, 'in requests of at most 50 ids');
select is((select max(jsonb_array_length(convert_from(body, 'UTF8')::jsonb -> 'conversation_ids'))
             from net.http_request_queue), 50, 'the largest request holds 50 ids');

-- Without the Vault secrets nothing is sent, and the sweep says so instead of failing.
delete from net.http_request_queue;
delete from vault.secrets where name = 'project_url';
select is((private.sweep_conversations(now() + interval '3 minutes', 10) ->> 'requests_not_sent')::int, 1,
  'without the Vault secrets the sweep reports the wake-ups it could not send');
select is((select count(*)::int from net.http_request_queue), 0, 'and queues nothing');

-- ============================================================================================================
-- Privileges
-- ============================================================================================================
select tests.authenticate_as('t052_owner');
select throws_ok($$select private.sweep_conversations()$$, '42501', null, 'a user cannot run the sweeper');
select throws_ok($$select private.reconcile_raw_objects()$$, '42501', null, 'nor the reconciliation');
select throws_ok($$select * from public.raw_orphans$$, '42501', null, 'nor read the orphan report');
select tests.as_owner();

select * from finish();
rollback;
