-- 20251211000000_record_recovered_answer.sql: recover records the logged metadata on a row whose answer was
-- lost at the worker boundary, and only there.
begin;
set local client_min_messages = error;
select plan(8);

select tests.create_supabase_user('t122_owner') as owner \gset
create temporary table t122 (label text primary key, id uuid not null default gen_random_uuid());
insert into t122 (label) values ('lost'), ('stuck'), ('claude'), ('done'), ('other_sha');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t122 where label = p_label $$;

insert into public.conversations (conversation_id, user_id, processing_status, generation_error_code, raw_sha256,
                                  raw_response_path)
select id, :'owner'::uuid,
       case label when 'stuck' then 'generating' when 'other_sha' then 'generating' when 'done' then 'completed'
                  else 'generation_failed' end,
       case label when 'lost' then 'worker_lost' when 'claude' then 'claude_error' end,
       case label when 'other_sha' then repeat('c', 64) end,
       case label when 'done' then 'raw/' || :'owner' || '/' || id || '.json' end
  from t122;

select ok(private.record_recovered_answer(pg_temp.id('lost'), repeat('a', 64), 'end_turn', 'claude-sonnet-4-5',
  10, 20, 0.01, false), 'a worker_lost row takes the logged metadata');
select is(
  (select format('%s|%s|%s|%s|%s|%s|%s|%s|%s', raw_sha256, stop_reason, model, input_tokens, output_tokens, cost_usd,
                 truncated, processing_status, generation_error_code)
     from public.conversations where conversation_id = pg_temp.id('lost')),
  repeat('a', 64) || '|end_turn|claude-sonnet-4-5|10|20|0.010000|f|generation_failed|worker_lost',
  'sha256, stop reason, model, usage, cost and truncated recorded; the status is left to the storage trigger');
select ok(private.record_recovered_answer(pg_temp.id('stuck'), repeat('b', 64), 'max_tokens', null, 1, 2, 0, true),
  'a row still generating takes it too');
select ok(private.record_recovered_answer(pg_temp.id('lost'), repeat('a', 64), 'end_turn', null, 10, 20, 0.01, false),
  'again with the same sha256: idempotent');
select ok(not private.record_recovered_answer(pg_temp.id('claude'), repeat('a', 64), 'end_turn', null, 1, 1, 0, false),
  'a row Claude failed is not touched');
select ok(not private.record_recovered_answer(pg_temp.id('done'), repeat('a', 64), 'end_turn', null, 1, 1, 0, false),
  'a row with its raw object is not touched');
select ok(not private.record_recovered_answer(pg_temp.id('other_sha'), repeat('a', 64), 'end_turn', null, 1, 1, 0,
  false), 'a row that records another sha256 is not touched');
select throws_ok(
  format($$select private.record_recovered_answer(%L, 'nothex', null, null, null, null, null, false)$$,
         pg_temp.id('stuck')),
  '22023', null, 'a malformed sha256 is refused');

select * from finish();
rollback;
