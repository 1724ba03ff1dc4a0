-- private.fail_abandoned_generations() (supabase/migrations/20251122000000_fail_abandoned_generations.sql): rows a
-- dead function worker left in `generating` are closed as generation_failed; nothing with an answer or an
-- object is touched. Time is passed in with p_now.
begin;
set local client_min_messages = error;
select plan(8);

select tests.create_supabase_user('t053_owner') as owner \gset
create temporary table t053 (label text primary key, id uuid not null default gen_random_uuid());
insert into t053 (label) values ('old'), ('fresh'), ('answered'), ('uploaded'), ('parsed');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t053 where label = p_label $$;

insert into public.conversations (conversation_id, user_id, processing_status)
select id, :'owner'::uuid, case label when 'parsed' then 'completed' else 'generating' end from t053;
update public.conversations set raw_sha256 = repeat('a', 64) where conversation_id = pg_temp.id('answered');
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('uploaded') || '.json', '{"size": 2}');
-- The trigger moved 'uploaded' on; put it back to generating to prove the object alone protects it.
update public.conversations set processing_status = 'generating' where conversation_id = pg_temp.id('uploaded');

select is(
  private.fail_abandoned_generations(now() + interval '31 minutes', interval '30 minutes'),
  2,
  'two rows count as abandoned 31 minutes on: the generating rows with neither a recorded answer nor an object'
);
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('old')),
  'generation_failed', 'an old generating row without answer or object becomes generation_failed');
select matches((select generation_error from public.conversations where conversation_id = pg_temp.id('old')),
  '^abandoned: ', 'its generation_error says why');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('uploaded')),
  'generating', 'a row whose raw object exists is never marked failed');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('parsed')),
  'completed', 'rows in other states are untouched');

-- 'answered' has a recorded answer (raw_sha256): it counts only by raw_sha256 being null, so it is kept.
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('answered')),
  'generating', 'a row with a recorded Claude answer is kept for the upload or the spool');

select is(private.fail_abandoned_generations(now(), interval '30 minutes'), 0,
  'nothing is abandoned before the timeout');

select results_eq(
  $$select schedule || ' | ' || command from cron.job where jobname = 'fail-abandoned-generations'$$,
  $$values ('*/5 * * * * | select private.fail_abandoned_generations()')$$,
  'pg_cron checks for abandoned generations every five minutes'
);

select * from finish();
rollback;
