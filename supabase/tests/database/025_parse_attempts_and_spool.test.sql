-- public.conversation_parse_attempts and public.raw_response_spool (supabase/migrations/
-- 20251117000400_create_parse_attempts.sql, 20251117000500_create_raw_response_spool.sql): shape, the owner
-- copy that RLS relies on, the spool's integrity checks, cascades.
begin;
select plan(44);

select tests.create_supabase_user('t025_owner') as owner \gset
select tests.create_supabase_user('t025_other') as other \gset
insert into public.conversations (conversation_id, user_id, processing_status)
values ('33333333-3333-4333-8333-333333333333', :'owner', 'parsing'),
       ('33333333-3333-4333-8333-444444444444', :'owner', 'generating');

-- ============================================================================================================
-- conversation_parse_attempts: shape
-- ============================================================================================================
select col_type_is('public', 'conversation_parse_attempts', c, t, format('conversation_parse_attempts.%s is %s', c, t))
  from (values
    ('id', 'bigint'), ('conversation_id', 'uuid'), ('user_id', 'uuid'), ('attempt_number', 'integer'),
    ('parser_version', 'text'), ('method', 'character varying(50)'), ('outcome', 'text'),
    ('error_code', 'text'), ('error_message', 'text'), ('fixes', 'jsonb'), ('stop_reason', 'text'),
    ('truncated', 'boolean'), ('partial_conversation', 'jsonb'), ('duration_ms', 'numeric(10,3)'),
    ('triggered_by', 'text'), ('created_at', 'timestamp with time zone')
  ) v(c, t);
select fk_ok('public', 'conversation_parse_attempts', 'conversation_id', 'public', 'conversations',
  'conversation_id', 'attempts reference conversations by the business id');
select has_index('public', 'conversation_parse_attempts', 'idx_conversation_parse_attempts_conversation',
  array['conversation_id', 'created_at'], 'attempts are indexed by (conversation_id, created_at)');

-- ============================================================================================================
-- conversation_parse_attempts: rules
-- ============================================================================================================
insert into public.conversation_parse_attempts
  (conversation_id, attempt_number, parser_version, method, outcome, fixes, duration_ms, triggered_by)
values ('33333333-3333-4333-8333-333333333333', 1, '1.0.0', 'jsonrepair', 'parsed',
        '[{"step": "jsonrepair", "fix": "trailing_comma"}]', 4.25, 'trigger');
select results_eq(
  $$select user_id, fixes -> 0 ->> 'fix', truncated from public.conversation_parse_attempts
     where conversation_id = '33333333-3333-4333-8333-333333333333'$$,
  format($$values (%L::uuid, 'trailing_comma', false)$$, :'owner'),
  'an attempt written without user_id gets the conversation''s owner');
select throws_ok(
  format($$insert into public.conversation_parse_attempts (conversation_id, user_id, attempt_number,
             parser_version, outcome) values ('33333333-3333-4333-8333-333333333333', %L, 2, '1.0.0', 'failed')$$,
         :'other'),
  '23514', null, 'an attempt filed under another user than the conversation''s owner is refused');
select throws_ok(
  $$update public.conversation_parse_attempts set user_id = gen_random_uuid()
     where conversation_id = '33333333-3333-4333-8333-333333333333'$$,
  '23514', null, 'and so is moving an attempt to another user');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
    values ('33333333-3333-4333-8333-333333333333', 2, '1.0.0', 'succeeded')$$,
  '23514', null, 'outcome is parsed, partial, failed or error');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome,
      method) values ('33333333-3333-4333-8333-333333333333', 2, '1.0.0', 'parsed', 'regex')$$,
  '23514', null, 'method is one of parse_method_used''s values');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome,
      fixes) values ('33333333-3333-4333-8333-333333333333', 2, '1.0.0', 'parsed', '{"a": 1}')$$,
  '23514', null, 'fixes is a JSON array');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
    values ('33333333-3333-4333-8333-333333333333', 0, '1.0.0', 'parsed')$$,
  '23514', null, 'attempt numbers start at 1');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
    values ('33333333-3333-4333-8333-999999999999', 1, '1.0.0', 'parsed')$$,
  '23503', null, 'an attempt for an unknown conversation is refused');

-- ============================================================================================================
-- raw_response_spool
-- ============================================================================================================
select col_type_is('public', 'raw_response_spool', c, t, format('raw_response_spool.%s is %s', c, t))
  from (values
    ('conversation_id', 'uuid'), ('user_id', 'uuid'), ('raw', 'bytea'), ('raw_sha256', 'text'),
    ('raw_size', 'bigint'), ('content_type', 'text'), ('upload_attempts', 'integer'), ('last_error', 'text'),
    ('next_attempt_at', 'timestamp with time zone'), ('created_at', 'timestamp with time zone')
  ) v(c, t);
select col_is_pk('public', 'raw_response_spool', 'conversation_id', 'one spool row per conversation');

select lives_ok(
  $$insert into public.raw_response_spool (conversation_id, raw, raw_sha256, raw_size)
    select '33333333-3333-4333-8333-444444444444', b, encode(sha256(b), 'hex'), octet_length(b)
      from (select convert_to('{"content": [{"type": "text", "text": "{}"}]}', 'UTF8') b) s$$,
  'bytes with their true size and sha256 are spooled');
select results_eq(
  $$select user_id, content_type, upload_attempts, next_attempt_at = now() from public.raw_response_spool$$,
  format($$values (%L::uuid, 'application/json', 0, true)$$, :'owner'),
  'the spool row gets the owner, the JSON content type, no attempts yet and is due at once');
select throws_ok(
  $$insert into public.raw_response_spool (conversation_id, raw, raw_sha256, raw_size)
    values ('33333333-3333-4333-8333-333333333333', 'abc', encode(sha256('abd'), 'hex'), 3)$$,
  '23514', null, 'a sha256 that does not match the bytes is refused');
select throws_ok(
  $$insert into public.raw_response_spool (conversation_id, raw, raw_sha256, raw_size)
    values ('33333333-3333-4333-8333-333333333333', 'abc', encode(sha256('abc'), 'hex'), 4)$$,
  '23514', null, 'a size that does not match the bytes is refused');
select throws_ok(
  format($$insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
    values ('33333333-3333-4333-8333-333333333333', %L, 'abc', encode(sha256('abc'), 'hex'), 3)$$, :'other'),
  '23514', null, 'a spool row for another user than the conversation''s owner is refused');

-- ============================================================================================================
-- Cascades
-- ============================================================================================================
delete from public.conversations where conversation_id in ('33333333-3333-4333-8333-333333333333',
                                                           '33333333-3333-4333-8333-444444444444');
select is_empty($$select 1 from public.conversation_parse_attempts
                   where conversation_id = '33333333-3333-4333-8333-333333333333'$$,
  'deleting a conversation deletes its attempts');
select is_empty($$select 1 from public.raw_response_spool
                   where conversation_id = '33333333-3333-4333-8333-444444444444'$$,
  'and its spool row');

select * from finish();
rollback;
