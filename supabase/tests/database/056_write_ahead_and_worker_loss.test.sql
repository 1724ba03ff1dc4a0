-- 20251203000000_write_ahead_and_worker_loss.sql: the spool's kinds (write_ahead, checkpoint, spooled), the
-- monitor's answers_lost rule, and spooled_raw_waiting ignoring the write-ahead copies of live generations.
begin;
set local client_min_messages = error;
select plan(11);

delete from public.conversations;
select tests.create_supabase_user('t056_owner') as owner \gset
create temporary table t056 (label text primary key, id uuid not null default gen_random_uuid());
insert into t056 (label) values ('live'), ('dead'), ('spooled'), ('lost'), ('lost_old'), ('failed');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t056 where label = p_label $$;

insert into public.conversations (conversation_id, user_id, processing_status, created_at)
select id, :'owner'::uuid,
       case label when 'spooled' then 'raw_spooled' when 'live' then 'generating' when 'dead' then 'generating'
                  else 'generation_failed' end,
       case label when 'lost_old' then now() - interval '2 days' else now() - interval '1 minute' end
  from t056;

select has_column('public', 'raw_response_spool', 'kind', 'the spool says what each row is');
select throws_ok(
  format($$insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, kind)
           values (%L, %L, '\x7b7d', encode(sha256('\x7b7d'::bytea), 'hex'), 2, 'draft')$$,
         pg_temp.id('live'), :'owner'),
  '23514', null, 'an unknown kind is refused');

insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, kind, next_attempt_at)
select pg_temp.id(l), :'owner'::uuid, '\x7b7d'::bytea, encode(sha256('\x7b7d'::bytea), 'hex'), 2, k, now() + d
  from (values ('live', 'write_ahead', interval '90 seconds'),
               ('dead', 'checkpoint', interval '-1 second'),
               ('spooled', 'spooled', interval '0 seconds')) v(l, k, d);

select is((select value from private.health_rule_values() where rule = 'spooled_raw_waiting'), 2::numeric,
  'spooled_raw_waiting counts the spooled row and the checkpoint past its lease, not a live write-ahead copy');

update public.conversations set generation_error_code = 'worker_lost', generation_error = 'worker_lost: …'
 where conversation_id in (pg_temp.id('lost'), pg_temp.id('lost_old'));
update public.conversations set generation_error = 'overloaded_error after 4 attempts'
 where conversation_id = pg_temp.id('failed');

select is((select value from private.health_rule_values() where rule = 'answers_lost'), 1::numeric,
  'answers_lost counts the worker_lost rows of the last 24 hours (not older ones, not Claude failures)');
select is((select details -> 'conversation_ids' ->> 0 from private.health_rule_values() where rule = 'answers_lost'),
  pg_temp.id('lost')::text, 'and names them');
select is((select threshold from public.alert_thresholds where rule = 'answers_lost'), 0::numeric,
  'any loss fires the rule');
select is((select severity from public.alert_thresholds where rule = 'answers_lost'), 'critical',
  'and it is critical');

select throws_ok(
  $$update public.conversations set generation_error_code = 'Worker Lost' where processing_status = 'generation_failed'$$,
  '23514', null, 'generation_error_code is a stable snake_case code');

-- A generating row with a checkpoint is never closed as lost, however old: the flush stores its partial answer.
select is(private.fail_abandoned_generations(now() + interval '1 hour', interval '30 minutes'), 0,
  'generating rows holding a write-ahead copy or a checkpoint are left to the flush');

-- A worker_lost row whose raw object arrives later is moved on by the storage trigger, and is no loss.
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('lost') || '.json', '{"size": 2}');
select is((select processing_status || ' ' || coalesce(generation_error_code, 'no code')
             from public.conversations where conversation_id = pg_temp.id('lost')),
  'raw_stored no code', 'a late object clears worker_lost: the answer was not lost after all');
select matches((select generation_error from public.conversations where conversation_id = pg_temp.id('lost')),
  'recovered: ', 'and generation_error says so');

select * from finish();
rollback;
