-- private.fail_abandoned_generations() (supabase/migrations/20251122000000_fail_abandoned_generations.sql): rows a
-- dead function worker left in `generating` are closed as generation_failed; nothing with an answer or an
-- object is touched. Time is passed in with p_now.
begin;
set local client_min_messages = error;
select plan(10);

select tests.create_supabase_user('t053_owner') as owner \gset
create temporary table t053 (label text primary key, id uuid not null default gen_random_uuid());
insert into t053 (label) values ('old'), ('fresh'), ('answered'), ('uploaded'), ('parsed'), ('written_ahead');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t053 where label = p_label $$;

insert into public.conversations (conversation_id, user_id, processing_status)
select id, :'owner'::uuid, case label when 'parsed' then 'completed' else 'generating' end from t053;
update public.conversations set raw_sha256 = repeat('a', 64) where conversation_id = pg_temp.id('answered');
-- 'written_ahead' holds its answer in the spool (a write-ahead row): the sweeper's flush stores it, never a loss.
update public.conversations set raw_sha256 = encode(sha256('{}'::bytea), 'hex')
 where conversation_id = pg_temp.id('written_ahead');
insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, kind, next_attempt_at)
values (pg_temp.id('written_ahead'), :'owner'::uuid, '{}'::bytea, encode(sha256('{}'::bytea), 'hex'), 2,
        'write_ahead', now() + interval '90 seconds');
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('uploaded') || '.json', '{"size": 2}');
-- The trigger moved 'uploaded' on; put it back to generating to prove the object alone protects it.
update public.conversations set processing_status = 'generating' where conversation_id = pg_temp.id('uploaded');

select is(
  private.fail_abandoned_generations(now() + interval '31 minutes', interval '30 minutes'),
  3,
  'three rows count as abandoned 31 minutes on: the generating rows with neither a spool row nor an object'
);
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('old')),
  'generation_failed', 'an old generating row without answer or object becomes generation_failed');
select matches((select generation_error from public.conversations where conversation_id = pg_temp.id('old')),
  '^worker_lost: ', 'its generation_error says why');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('uploaded')),
  'generating', 'a row whose raw object exists is never marked failed');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('parsed')),
  'completed', 'rows in other states are untouched');

-- 'answered' has a recorded answer (raw_sha256) but no spool row and no object: the answer was received and
-- lost (the old order of writes; 20251203000000). It is closed as lost, keeping the sha256 as evidence.
select is((select processing_status || ' ' || generation_error_code || ' ' || raw_sha256
             from public.conversations where conversation_id = pg_temp.id('answered')),
  'generation_failed worker_lost ' || repeat('a', 64),
  'a row whose recorded answer no durable write holds is closed as worker_lost, its sha256 kept');

select is((select processing_status::text from public.conversations
            where conversation_id = pg_temp.id('written_ahead')),
  'generating', 'a row whose answer is written ahead in the spool is left to the flush');
select is((select generation_error_code from public.conversations where conversation_id = pg_temp.id('old')),
  'worker_lost', 'the loss carries the stable code worker_lost');

select is(private.fail_abandoned_generations(now(), interval '30 minutes'), 0,
  'nothing is abandoned before the timeout');

select results_eq(
  $$select schedule || ' | ' || command from cron.job where jobname = 'fail-abandoned-generations'$$,
  $$values ('*/5 * * * * | select private.fail_abandoned_generations()')$$,
  'pg_cron checks for abandoned generations every five minutes'
);

select * from finish();
rollback;
