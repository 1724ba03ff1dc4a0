-- The review queue's state changes (supabase/migrations/20251121000000_create_review_functions.sql):
-- requeue_for_review, resolve_conversation, dismiss_conversation — guards, scoping by owner, refusals, what each
-- writes, and how they fit the parse flow's claim and the storage trigger.
begin;
set local client_min_messages = error;
select plan(43);

select tests.create_supabase_user('review_owner');
select tests.create_supabase_user('review_other');
select tests.create_supabase_user('review_operator');

-- Fixture: one row per situation, all owned by review_owner unless named otherwise.
create temporary table fx (name text primary key, id uuid not null default gen_random_uuid());
insert into fx (name) values ('failed'), ('completed'), ('retention'), ('others'), ('to_dismiss'), ('gave_up'),
  ('no_raw');
grant select on fx to authenticated, anon, service_role;

insert into public.conversations
  (conversation_id, user_id, processing_status, requires_manual_review, raw_response_path, raw_response_size,
   raw_stored_at, parse_attempts, parser_version, parse_error_message, raw_deleted_at, created_at)
select fx.id,
       case when fx.name = 'others' then tests.get_supabase_uid('review_other')
            else tests.get_supabase_uid('review_owner') end,
       case when fx.name = 'completed' then 'completed' else 'parse_failed' end,
       fx.name <> 'completed',
       case when fx.name = 'no_raw' then null
            else 'raw/' || case when fx.name = 'others' then tests.get_supabase_uid('review_other')
                                else tests.get_supabase_uid('review_owner') end || '/' || fx.id || '.json' end,
       1234, now() - interval '1 hour', 1, '2025.11.0',
       case when fx.name = 'completed' then null else 'invalid_json: Unterminated string at position 8517' end,
       case when fx.name = 'retention' then now() - interval '1 minute' end,
       now() - interval '1 hour'
  from fx;

create function pg_temp.fx(p_name text) returns uuid language sql stable as $$
  select id from fx where name = p_name
$$;
create function pg_temp.plan_of(p_query text) returns text language plpgsql as $$
declare
  _line record;
  _out text := '';
begin
  for _line in execute 'explain ' || p_query loop
    _out := _out || _line."QUERY PLAN" || ' ';
  end loop;
  return _out;
end
$$;
create function pg_temp.uid(p_name text) returns uuid language sql stable as $$
  select tests.get_supabase_uid(p_name)
$$;

-- ===== requeue_for_review =====

select is(private.requeue_for_review(pg_temp.fx('failed'), pg_temp.uid('review_other')), 'not_found',
  'requeue: another user''s item is "not_found", exactly like a missing one');
select is(private.requeue_for_review(gen_random_uuid(), null), 'not_found',
  'requeue: an unknown id is "not_found"');
select is(private.requeue_for_review(pg_temp.fx('completed'), pg_temp.uid('review_owner')), 'not_in_review',
  'requeue: a completed item is "not_in_review"');
select is(private.requeue_for_review(pg_temp.fx('retention'), pg_temp.uid('review_owner')), 'raw_unavailable',
  'requeue: an item whose raw object was deleted by retention cannot be re-parsed');
select is(private.requeue_for_review(pg_temp.fx('no_raw'), null), 'raw_unavailable',
  'requeue: an item without a raw path cannot be re-parsed');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.fx('retention')),
  'parse_failed', 'requeue: a refused item keeps its state');

select is(private.requeue_for_review(pg_temp.fx('failed'), pg_temp.uid('review_owner'), '2025-11-21 10:00+00'),
  null, 'requeue: the owner''s item in review moves (null = done)');
select results_eq(
  $$select processing_status::text, requires_manual_review, next_attempt_at, claimed_until
      from public.conversations where conversation_id = pg_temp.fx('failed')$$,
  $$values ('raw_stored', true, '2025-11-21 10:00+00'::timestamptz, null::timestamptz)$$,
  'requeue: raw_stored, due at p_now, unclaimed, and still flagged for review until the new outcome');
select is(private.requeue_for_review(pg_temp.fx('failed'), null), 'not_in_review',
  'requeue: a second requeue of the same item is refused (it is no longer parse_failed)');
select is(
  (select count(*)::int from private.claim_conversation(pg_temp.fx('failed'), '2025-11-21 10:00:01+00')),
  1, 'requeue: the parse flow''s own claim takes the requeued row');
select results_eq(
  $$select processing_status::text, parse_attempts from public.conversations
     where conversation_id = pg_temp.fx('failed')$$,
  $$values ('parsing', 2)$$,
  'requeue: after the claim the row is parsing and parse_attempts counts the new attempt');
select ok(
  private.fail_parse(pg_temp.fx('failed'), 2, 'failed', 'invalid_json', 'still broken', '2026.11.1',
    p_triggered_by => 'review'),
  'requeue: the claimed attempt can be finished by the parse flow (fail_parse)');
select results_eq(
  $$select processing_status::text, requires_manual_review, parser_version from public.conversations
     where conversation_id = pg_temp.fx('failed')$$,
  $$values ('parse_failed', true, '2026.11.1')$$,
  'requeue: a re-parse that fails again puts the item back in review with the new parser version');
select is(private.requeue_for_review(pg_temp.fx('gave_up'), null), null,
  'requeue: the service role (null scope) reaches any user''s item');

-- ===== resolve_conversation =====

select is(
  private.resolve_conversation(pg_temp.fx('others'), pg_temp.uid('review_owner'), pg_temp.uid('review_owner'),
    null, 'x/y/conversation.json', 10, 2, 'n', '2026.11.1'),
  'not_found', 'resolve: another user''s item is "not_found"');
select is(
  private.resolve_conversation(pg_temp.fx('others'), null, gen_random_uuid(), null, 'p', 10, 2, 'n', '2026.11.1'),
  'unknown_reviewer', 'resolve: a reviewer who is not a user is refused before anything changes');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.fx('others')),
  'parse_failed', 'resolve: a refused resolve changes nothing');
select is(
  private.resolve_conversation(pg_temp.fx('completed'), pg_temp.uid('review_owner'), pg_temp.uid('review_owner'),
    null, 'p', 10, 2, 'n', '2026.11.1'),
  'not_in_review', 'resolve: a completed item is "not_in_review"');

select is(
  private.resolve_conversation(pg_temp.fx('others'), null, pg_temp.uid('review_operator'), 'fixed the quotes',
    pg_temp.uid('review_other') || '/' || pg_temp.fx('others') || '/conversation.json', 2048, 4,
    'David Chen - Anxious Planner', '2026.11.1', '2025-11-21 11:00+00'),
  null, 'resolve: the service role resolves any item, naming the operator');
select results_eq(
  $$select processing_status::text, parse_method_used::text, requires_manual_review, parse_error_message,
           reviewed_by, reviewed_at, review_notes, file_path, file_size, turn_count, conversation_name::text,
           parse_attempts, parser_version
      from public.conversations where conversation_id = pg_temp.fx('others')$$,
  $$values ('completed', 'manual', false, null::text, pg_temp.uid('review_operator'),
            '2025-11-21 11:00+00'::timestamptz, 'fixed the quotes',
            pg_temp.uid('review_other') || '/' || pg_temp.fx('others') || '/conversation.json', 2048::bigint, 4,
            'David Chen - Anxious Planner', 2, '2026.11.1')$$,
  'resolve: completed, method manual, out of review, error cleared, who/when/notes and the final file recorded');
select results_eq(
  $$select attempt_number, method::text, outcome, triggered_by, parser_version, user_id, created_at
      from public.conversation_parse_attempts where conversation_id = pg_temp.fx('others')$$,
  $$values (2, 'manual', 'parsed', 'manual', '2026.11.1', pg_temp.uid('review_other'),
            '2025-11-21 11:00+00'::timestamptz)$$,
  'resolve: one attempts-log row, method manual, numbered after the previous attempts, filed under the owner');
select is(
  private.resolve_conversation(pg_temp.fx('others'), null, null, null, 'p', 10, 2, 'n', '2026.11.1'),
  'not_in_review', 'resolve: a second resolve of the same item is refused');
select is(
  (select outcome from private.record_raw_object('conversation-files',
     'raw/' || pg_temp.uid('review_other') || '/' || pg_temp.fx('others') || '.json', null, 99)),
  'ignored_manual', 'resolve: a later upload of the raw object leaves the manual result alone (storage trigger)');

-- ===== dismiss_conversation =====

select throws_ok(
  format('select private.dismiss_conversation(%L, null, null, %L)', pg_temp.fx('to_dismiss'), '  '),
  '22023', null, 'dismiss: a blank reason is an error (22023), not a silent dismissal');
select is(private.dismiss_conversation(pg_temp.fx('to_dismiss'), pg_temp.uid('review_other'),
    pg_temp.uid('review_other'), 'not mine'),
  'not_found', 'dismiss: another user''s item is "not_found"');
select is(private.dismiss_conversation(pg_temp.fx('to_dismiss'), null, gen_random_uuid(), 'x'),
  'unknown_reviewer', 'dismiss: a reviewer who is not a user is refused');
select is(private.dismiss_conversation(pg_temp.fx('to_dismiss'), pg_temp.uid('review_owner'),
    pg_temp.uid('review_owner'), 'test data from the load run', '2025-11-21 12:00+00'),
  null, 'dismiss: the owner dismisses their own item');
select results_eq(
  $$select processing_status::text, requires_manual_review, dismissed_at, dismissed_reason, reviewed_by,
           raw_response_path is not null, parse_method_used
      from public.conversations where conversation_id = pg_temp.fx('to_dismiss')$$,
  $$values ('parse_failed', false, '2025-11-21 12:00+00'::timestamptz, 'test data from the load run',
            pg_temp.uid('review_owner'), true, null::varchar)$$,
  'dismiss: out of the queue with when/why/who; status stays parse_failed and the raw path is kept');
select is(private.dismiss_conversation(pg_temp.fx('to_dismiss'), null, null, 'again'), 'not_in_review',
  'dismiss: a dismissed item is no longer in review');
select is(private.requeue_for_review(pg_temp.fx('to_dismiss'), null), 'not_in_review',
  'dismiss: a dismissed item is not re-parsed (retry and retry-all skip it)');
select is(
  private.resolve_conversation(pg_temp.fx('to_dismiss'), null, null, null, 'p', 10, 2, 'n', '2026.11.1'),
  'not_in_review', 'dismiss: a dismissed item cannot be resolved');
select is(
  (select count(*)::int from public.conversation_parse_attempts where conversation_id = pg_temp.fx('to_dismiss')),
  0, 'dismiss: dismissing is not a parse attempt (no attempts-log row)');

-- ===== privileges: only the service role (and the owner, postgres) may call these =====

select tests.authenticate_as('review_owner');
select throws_ok(
  format('select private.requeue_for_review(%L, %L)', pg_temp.fx('no_raw'), pg_temp.uid('review_owner')),
  '42501', null, 'privileges: an authenticated user cannot call requeue_for_review directly');
select throws_ok(
  format('select private.dismiss_conversation(%L, null, null, %L)', pg_temp.fx('no_raw'), 'x'),
  '42501', null, 'privileges: an authenticated user cannot call dismiss_conversation directly');
select throws_ok(
  format('select private.resolve_conversation(%L, null, null, null, %L, 1, 2, %L, %L)', pg_temp.fx('no_raw'),
    'p', 'n', 'v'),
  '42501', null, 'privileges: an authenticated user cannot call resolve_conversation directly');
select tests.clear_authentication();
select throws_ok(
  format('select private.requeue_for_review(%L, null)', pg_temp.fx('no_raw')),
  '42501', null, 'privileges: anon cannot call requeue_for_review');
select tests.authenticate_as_service_role();
select is(private.requeue_for_review(pg_temp.fx('no_raw'), null), 'raw_unavailable',
  'privileges: the service role can call requeue_for_review');
select tests.as_owner();
select ok(
  not has_function_privilege('public', 'private.review_refusal(uuid, uuid)', 'execute'),
  'privileges: the refusal helper is not executable by PUBLIC');

-- ===== the queue listing's indexes =====

select has_index('public', 'conversations', 'idx_conversations_review_queue',
  array['created_at', 'conversation_id'], 'index: the queue keyset (created_at, conversation_id)');
select has_index('public', 'conversations', 'idx_conversations_review_queue_user',
  array['user_id', 'created_at', 'conversation_id'], 'index: one user''s queue keyset');
select has_index('public', 'conversations', 'idx_conversations_dismissed',
  array['created_at', 'conversation_id'], 'index: the dismissed listing keyset');
select ok(
  (select pg_get_indexdef(indexrelid) from pg_index
    where indexrelid = 'public.idx_conversations_review_queue'::regclass)
    like '%WHERE (((processing_status)::text = ''parse_failed''::text) AND requires_manual_review)',
  'index: the queue index holds only rows in review (partial), so it stays as small as the queue');

-- The planner takes the partial index for a page of the queue (enable_seqscan off: the fixture is tiny).
set local enable_seqscan = off;
select ok(
  pg_temp.plan_of($$select conversation_id from public.conversations
        where processing_status = 'parse_failed' and requires_manual_review
        order by created_at desc, conversation_id desc limit 25$$)
    like '%idx_conversations_review_queue%',
  'index: a newest-first page of the queue is read from idx_conversations_review_queue');
reset enable_seqscan;

select * from finish();
rollback;
