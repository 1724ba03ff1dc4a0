-- The parse step's transitions (supabase/migrations/20251119000100_create_parse_claim_functions.sql): the claim,
-- its fencing token, completion, failure, release with backoff, expired claims, giving up, and the spool lease.
-- Time is passed in (p_now), never slept. Races on real connections: tests/integration/parse/claim_race_test.ts.
begin;
set local client_min_messages = error;
select plan(46);

select tests.create_supabase_user('t051_owner') as owner \gset
create temporary table t051 (label text primary key, id uuid not null default gen_random_uuid());
insert into t051 (label) values ('a'), ('b'), ('c'), ('d'), ('e'), ('f');
create function pg_temp.id(p_label text) returns uuid language sql as $$ select id from t051 where label = p_label $$;
create function pg_temp.status(p_label text) returns text language sql as $$
  select processing_status::text from public.conversations where conversation_id = pg_temp.id(p_label)
$$;
create function pg_temp.t(p_seconds integer) returns timestamptz language sql as $$
  select '2025-11-19 12:00:00+00'::timestamptz + make_interval(secs => p_seconds)
$$;

-- Scaffolding for the final file's input_parameters, straight from the seed tables' shape.
insert into public.personas (id, persona_key, name, archetype)
values ('51000000-0000-4000-8000-000000000001', 't051_persona', 'Test Person', 'The Tester');
insert into public.emotional_arcs (id, arc_key, name, starting_emotion, ending_emotion)
values ('51000000-0000-4000-8000-000000000002', 't051_arc', 'Test Arc', 'doubt', 'trust');
insert into public.training_topics (id, topic_key, name)
values ('51000000-0000-4000-8000-000000000003', 't051_topic', 'Test Topic');

insert into public.conversations (conversation_id, user_id, processing_status, raw_response_path, raw_stored_at,
                                  raw_sha256, persona_id, emotional_arc_id, training_topic_id, tier)
select pg_temp.id(label), :'owner', 'raw_stored', 'raw/' || :'owner' || '/' || pg_temp.id(label) || '.json',
       pg_temp.t(0), repeat('b', 64),
       '51000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002',
       '51000000-0000-4000-8000-000000000003', 'template'
  from t051;

-- ============================================================================================================
-- Claim
-- ============================================================================================================
select results_eq(
  format($$select attempt, claimed_until, persona_name, persona_archetype, emotional_arc_key, training_topic_name
             from private.claim_conversation(%L, %L)$$, pg_temp.id('a'), pg_temp.t(1)),
  format($$values (1, %L::timestamptz, 'Test Person'::text, 'The Tester'::text, 't051_arc'::text,
                   'Test Topic'::text)$$, pg_temp.t(61)),
  'a claim returns attempt 1, a 60 s lease and the scaffolding');
select results_eq(
  format($$select processing_status::text, parse_attempts, last_parse_attempt_at, claimed_until
             from public.conversations where conversation_id = %L$$, pg_temp.id('a')),
  format($$values ('parsing', 1, %L::timestamptz, %L::timestamptz)$$, pg_temp.t(1), pg_temp.t(61)),
  'the row is parsing, parse_attempts + 1 and last_parse_attempt_at set in the same statement');
select is_empty(format($$select * from private.claim_conversation(%L, %L)$$, pg_temp.id('a'), pg_temp.t(2)),
  'a second claim while the lease runs is a no-op (zero rows)');
select is_empty(format($$select * from private.claim_conversation(%L, %L)$$, gen_random_uuid(), pg_temp.t(2)),
  'claiming an unknown conversation is a no-op');
update public.conversations set next_attempt_at = pg_temp.t(100) where conversation_id = pg_temp.id('b');
select is_empty(format($$select * from private.claim_conversation(%L, %L)$$, pg_temp.id('b'), pg_temp.t(99)),
  'a row is not claimable before its next_attempt_at');
select is((select attempt from private.claim_conversation(pg_temp.id('b'), pg_temp.t(100))), 1,
  'and is claimable from then on');
select is((select count(*)::int from private.claim_conversation(pg_temp.id('b'), pg_temp.t(100), interval '5 seconds')),
  0, 'claiming again at the same instant changes nothing');

-- ============================================================================================================
-- Complete, fenced by the attempt number
-- ============================================================================================================
select is(private.complete_parse(pg_temp.id('a'), 2, 'direct', 'p1', 4, 'f/p', 10, 'Name'), false,
  'complete_parse() with another attempt number writes nothing');
select is(pg_temp.status('a'), 'parsing', 'the row is still parsing');
select is(private.complete_parse(pg_temp.id('a'), 1, 'jsonrepair', 'p1', 6, :'owner' || '/x/conversation.json',
                                 2048, 'Test Person - The Tester', repeat('c', 64), 'end_turn',
                                 '[{"step":"repair","code":"jsonrepair"}]', 12.5, 'trigger', pg_temp.t(3)),
  true, 'complete_parse() with the claim''s attempt number succeeds');
select results_eq(
  format($$select processing_status::text, parse_method_used::text, parser_version, turn_count, file_size,
                  conversation_name::text, requires_manual_review, parse_error_message, claimed_until, raw_sha256
             from public.conversations where conversation_id = %L$$, pg_temp.id('a')),
  $$values ('completed', 'jsonrepair', 'p1', 6, 2048::bigint, 'Test Person - The Tester', false, null::text,
            null::timestamptz, repeat('b', 64))$$,
  'the row is completed with method, version, turns, file and name; the recorded sha256 is kept');
select results_eq(
  format($$select attempt_number, outcome, method::text, parser_version, duration_ms, triggered_by, fixes
             from public.conversation_parse_attempts where conversation_id = %L$$, pg_temp.id('a')),
  $$values (1, 'parsed', 'jsonrepair', 'p1', 12.500::numeric, 'trigger',
            '[{"step":"repair","code":"jsonrepair"}]'::jsonb)$$,
  'and one attempts-log row records it, in the same transaction');
select is(private.complete_parse(pg_temp.id('a'), 1, 'direct', 'p1', 4, 'f/p', 10, 'Name'), false,
  'completing twice is a no-op');

-- A row without a recorded sha256 (the database was unreachable at generation) gets the computed one.
update public.conversations set raw_sha256 = null where conversation_id = pg_temp.id('c');
select is((select attempt from private.claim_conversation(pg_temp.id('c'), pg_temp.t(1))), 1, 'claim c');
select ok(private.complete_parse(pg_temp.id('c'), 1, 'direct', 'p1', 2, 'f', 1, 'n', repeat('d', 64)), 'complete c');
select is((select raw_sha256 from public.conversations where conversation_id = pg_temp.id('c')), repeat('d', 64),
  'complete_parse() records the computed sha256 where none was recorded');

-- ============================================================================================================
-- Fail: content failures go to review with the partial result kept apart
-- ============================================================================================================
select is(private.fail_parse(pg_temp.id('b'), 1, 'partial', 'truncated_json', 'the document ended at position 812',
                             'p1', 'jsonrepair', true, '{"conversation_metadata":null,"turns":[]}',
                             p_stop_reason => 'max_tokens', p_now => pg_temp.t(101)),
  true, 'fail_parse() with the claim''s attempt succeeds');
select results_eq(
  format($$select processing_status::text, requires_manual_review, parse_error_message, truncated,
                  parse_method_used::text, stop_reason, file_path
             from public.conversations where conversation_id = %L$$, pg_temp.id('b')),
  $$values ('parse_failed', true, 'truncated_json: the document ended at position 812', true, null::text,
            'max_tokens', null::text)$$,
  'the row goes to review with "<code>: <message>", the truncation flag and no method or file');
select results_eq(
  format($$select outcome, error_code, partial_conversation, truncated, method::text
             from public.conversation_parse_attempts where conversation_id = %L$$, pg_temp.id('b')),
  $$values ('partial', 'truncated_json', '{"conversation_metadata":null,"turns":[]}'::jsonb, true, 'jsonrepair')$$,
  'the partial conversation is kept in the attempts log, not in the final file');
select throws_ok(
  format($$select private.fail_parse(%L, 1, 'parsed', 'x', 'y', 'p1')$$, pg_temp.id('b')),
  '22023', null, 'fail_parse() refuses an outcome other than partial or failed');

-- ============================================================================================================
-- Release: infrastructure failures retry with backoff, then go to review
-- ============================================================================================================
select is((select attempt from private.claim_conversation(pg_temp.id('d'), pg_temp.t(0))), 1, 'claim d');
select results_eq(
  format($$select outcome, consecutive_failures from private.release_parse_claim(
             %L, 1, 'storage_unavailable', 'Cannot download the raw object: timeout', 'p1', p_now => %L)$$,
         pg_temp.id('d'), pg_temp.t(5)),
  $$values ('released', 1)$$, 'release_parse_claim() releases after the first failure');
select ok((select next_attempt_at between pg_temp.t(15) and pg_temp.t(17)
             from public.conversations where conversation_id = pg_temp.id('d')),
  'due again after 10 s (+0–20 % jitter)');
select results_eq(
  format($$select processing_status::text, claimed_until, requires_manual_review, parse_error_message
             from public.conversations where conversation_id = %L$$, pg_temp.id('d')),
  $$values ('raw_stored', null::timestamptz, false, 'storage_unavailable: Cannot download the raw object: timeout')$$,
  'the row is raw_stored again, not in review, with the last error');
select is((select outcome || ':' || error_code from public.conversation_parse_attempts
            where conversation_id = pg_temp.id('d')), 'error:storage_unavailable',
  'the failed attempt is logged with outcome error');
select is((select attempt from private.claim_conversation(pg_temp.id('d'), pg_temp.t(30))), 2, 'claim d again');
select is((select outcome from private.release_parse_claim(pg_temp.id('d'), 1, 'x', 'y', 'p1', p_now => pg_temp.t(31))),
  'lost_claim', 'releasing with a stale attempt number is a no-op');
select ok((select next_attempt_at between pg_temp.t(51) and pg_temp.t(55)
             from private.release_parse_claim(pg_temp.id('d'), 2, 'database_unavailable', 'reset', 'p1',
                                              p_now => pg_temp.t(31))),
  'the second failure in a row waits 20 s: the backoff doubles');
select is((select count(*)::int from private.claim_conversation(pg_temp.id('d'), pg_temp.t(3600))), 1, 'claim d a third time');
select results_eq(
  format($$select outcome, consecutive_failures from private.release_parse_claim(
             %L, 3, 'final_upload_failed', 'down', 'p1', p_now => %L, p_max_infra_failures => 3)$$,
         pg_temp.id('d'), pg_temp.t(3601)),
  $$values ('gave_up', 3)$$, 'after the maximum of failures in a row the release gives up');
select results_eq(
  format($$select processing_status::text, requires_manual_review, parse_error_message
             from public.conversations where conversation_id = %L$$, pg_temp.id('d')),
  $$values ('parse_failed', true,
            'parse_gave_up: 3 attempts in a row ended without a result (last: final_upload_failed)')$$,
  'and sends the item to review with a clear message, so nothing loops forever');
select is((select outcome from private.release_parse_claim(pg_temp.id('e'), 0, 'x', 'y', 'p1')), 'lost_claim',
  'release_parse_claim() on a row that was never claimed answers lost_claim instead of raising');

-- Only error rows after the last real outcome count.
insert into public.conversation_parse_attempts (conversation_id, user_id, attempt_number, parser_version, outcome,
                                                 error_code)
values (pg_temp.id('a'), :'owner', 1, 'p0', 'error', 'storage_unavailable');
select is(private.count_parse_infra_failures(pg_temp.id('a')), 1, 'an error after a real outcome counts as one');
select is(private.count_parse_infra_failures(pg_temp.id('b')), 0, 'a row whose last attempt failed in content has none');

-- ============================================================================================================
-- Expired claims: the attempt that vanished is logged, the row is taken over
-- ============================================================================================================
select is((select attempt from private.claim_conversation(pg_temp.id('e'), pg_temp.t(0))), 1, 'claim e');
select is_empty(format($$select * from private.claim_conversation(%L, %L)$$, pg_temp.id('e'), pg_temp.t(59)),
  'the claim holds until its lease ends');
select is((select attempt from private.claim_conversation(pg_temp.id('e'), pg_temp.t(61))), 2,
  'after the lease another worker takes the row over with attempt 2');
select results_eq(
  format($$select attempt_number, outcome, error_code from public.conversation_parse_attempts
            where conversation_id = %L$$, pg_temp.id('e')),
  $$values (1, 'error', 'claim_expired')$$, 'and the vanished attempt 1 is logged as claim_expired');
select is(private.complete_parse(pg_temp.id('e'), 1, 'direct', 'p1', 2, 'f', 1, 'n'), false,
  'the first worker, back late, cannot overwrite attempt 2');
select is((select count(*)::int from private.claim_conversation(pg_temp.id('e'), pg_temp.t(200), p_max_infra_failures => 2)),
  0, 'a second expiry in a row with a maximum of 2 gives up instead of claiming');
select is(pg_temp.status('e'), 'parse_failed', 'the poison item is in review');

-- ============================================================================================================
-- Spool lease
-- ============================================================================================================
update public.conversations set processing_status = 'raw_spooled' where conversation_id = pg_temp.id('f');
insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, next_attempt_at)
values (pg_temp.id('f'), :'owner', 'xyz', encode(sha256('xyz'), 'hex'), 3, pg_temp.t(0));
select is((select upload_attempts from private.lease_spooled_raw(10, pg_temp.t(1))), 1, 'a due spool row is leased');
select is_empty($$select * from private.lease_spooled_raw(10, '2025-11-19 12:00:02+00')$$,
  'and not handed to a second flush during its lease');
select ok(private.defer_spooled_raw(pg_temp.id('f'), 'storage down', pg_temp.t(2)) = pg_temp.t(32),
  'a failed upload defers it 30 s');
select is(private.finish_spooled_raw(pg_temp.id('f'), repeat('0', 64)), false,
  'finish_spooled_raw() with other bytes'' sha256 keeps the row');

-- ============================================================================================================
-- Privileges
-- ============================================================================================================
select pg_temp.id('a') as a_id \gset
select tests.authenticate_as('t051_owner');
select throws_ok(format($$select * from private.claim_conversation(%L)$$, :'a_id'), '42501', null,
  'a user cannot claim');
select tests.as_owner();

select * from finish();
rollback;
