-- public.conversations (supabase/migrations/20251117000100_create_conversations_table.sql and
-- 20251117000300_add_pipeline_columns.sql): columns and types of the contract other parts build on, defaults,
-- constraints (the state machine's states, tiers, parse methods, idempotency), triggers and cascades.
begin;
select plan(78);

select tests.create_supabase_user('t015_owner') as owner \gset
select tests.create_supabase_user('t015_other') as other \gset

-- ============================================================================================================
-- Columns and types
-- ============================================================================================================
select has_table('public', 'conversations', 'table public.conversations exists');
select col_type_is('public', 'conversations', c, t, format('conversations.%s is %s', c, t))
  from (values
    ('id', 'uuid'), ('conversation_id', 'uuid'), ('user_id', 'uuid'), ('persona_id', 'uuid'),
    ('emotional_arc_id', 'uuid'), ('training_topic_id', 'uuid'), ('template_id', 'uuid'),
    ('persona_key', 'character varying(100)'), ('emotional_arc_key', 'character varying(100)'),
    ('topic_key', 'character varying(100)'), ('scaffolding_snapshot', 'jsonb'),
    ('tier', 'character varying(50)'), ('conversation_name', 'character varying(255)'),
    ('processing_status', 'character varying(50)'), ('file_path', 'text'), ('file_size', 'bigint'),
    ('storage_bucket', 'character varying(100)'), ('turn_count', 'integer'),
    ('created_at', 'timestamp with time zone'), ('updated_at', 'timestamp with time zone'),
    ('raw_sha256', 'text'), ('stop_reason', 'text'), ('model', 'text'), ('input_tokens', 'integer'),
    ('output_tokens', 'integer'), ('cost_usd', 'numeric(12,6)'), ('truncated', 'boolean'),
    ('parser_version', 'text'), ('claimed_until', 'timestamp with time zone'),
    ('next_attempt_at', 'timestamp with time zone'), ('idempotency_key', 'text'), ('request_hash', 'text'),
    ('generation_error', 'text'), ('generation_attempts', 'integer'),
    ('raw_deleted_at', 'timestamp with time zone'), ('reviewed_by', 'uuid'),
    ('reviewed_at', 'timestamp with time zone'), ('review_notes', 'text'),
    ('dismissed_at', 'timestamp with time zone'), ('dismissed_reason', 'text')
  ) v(c, t);
select col_not_null('public', 'conversations', c, format('conversations.%s is not null', c))
  from unnest(array['conversation_id', 'user_id', 'processing_status', 'created_at', 'updated_at',
                    'truncated', 'generation_attempts']) c;
select col_is_pk('public', 'conversations', 'id', 'id is the primary key');
select col_is_unique('public', 'conversations', 'conversation_id', 'conversation_id (the business id) is unique');
select col_is_unique('public', 'conversations', array['user_id', 'idempotency_key'],
  'an idempotency key is unique per user');
select fk_ok('public', 'conversations', 'user_id', 'auth', 'users', 'id', 'user_id references auth.users');
select col_default_is('public', 'conversations', 'processing_status', 'generating'::varchar,
  'a new row starts generating');
select col_default_is('public', 'conversations', 'storage_bucket', 'conversation-files'::varchar,
  'files live in conversation-files by default');

-- ============================================================================================================
-- Defaults and the orphan row
-- ============================================================================================================
insert into public.conversations (user_id) values (:'owner');
select results_eq(
  $$select processing_status::text, tier, persona_id, truncated, generation_attempts, parse_attempts,
           requires_manual_review, conversation_id is not null
      from public.conversations where user_id = (select tests.get_supabase_uid('t015_owner'))$$,
  $$values ('generating', null::varchar, null::uuid, false, 0, 0, false, true)$$,
  'a row needs only a user: no scaffolding (an orphaned raw object), fresh conversation_id, zeroed counters');

-- ============================================================================================================
-- The state machine's states
-- ============================================================================================================
select lives_ok(
  format($$insert into public.conversations (user_id, processing_status) values %s$$,
    (select string_agg(format('(%L, %L)', :'owner', s), ', ')
       from unnest(array['generating', 'raw_stored', 'parsing', 'completed', 'parse_failed',
                         'generation_failed', 'raw_spooled']) s)),
  'each of the seven states is accepted');
select throws_ok(
  format($$insert into public.conversations (user_id, processing_status) values (%L, %L)$$, :'owner', s),
  '23514', null, format('processing_status %L is refused', s))
  from unnest(array['queued', 'failed', 'processing', 'Completed']) s;
select throws_ok(
  format($$insert into public.conversations (user_id, processing_status) values (%L, null)$$, :'owner'),
  '23502', null, 'processing_status cannot be null');
select throws_ok(
  format($$insert into public.conversations (user_id, tier) values (%L, 'premium')$$, :'owner'),
  '23514', null, 'tier is template, scenario or edge_case');
select lives_ok(
  format($$insert into public.conversations (user_id, tier) values (%L, 'edge_case')$$, :'owner'),
  'tier edge_case is accepted');
select lives_ok(
  format($$insert into public.conversations (user_id, parse_method_used) values (%L, 'extracted')$$, :'owner'),
  'parse_method_used extracted (the parse chain''s extraction step) is accepted');
select throws_ok(
  format($$insert into public.conversations (user_id, parse_method_used) values (%L, 'regex')$$, :'owner'),
  '23514', null, 'parse_method_used is direct, extracted, jsonrepair or manual');

-- ============================================================================================================
-- Formats, counters, idempotency
-- ============================================================================================================
select throws_ok(
  format($$insert into public.conversations (user_id, raw_sha256) values (%L, %L)$$, :'owner', repeat('A', 64)),
  '23514', null, 'raw_sha256 is lowercase hex (one spelling, so comparisons never miss)');
select throws_ok(
  format($$insert into public.conversations (user_id, request_hash) values (%L, 'abc')$$, :'owner'),
  '23514', null, 'request_hash is a 64-character sha256');
select throws_ok(
  format($$insert into public.conversations (user_id, output_tokens) values (%L, -1)$$, :'owner'),
  '23514', null, 'token counts cannot be negative');
select throws_ok(
  format($$insert into public.conversations (user_id, idempotency_key) values (%L, '')$$, :'owner'),
  '23514', null, 'an empty idempotency key is refused');

insert into public.conversations (user_id, idempotency_key, request_hash)
values (:'owner', 'key-1', repeat('b', 64));
select throws_ok(
  format($$insert into public.conversations (user_id, idempotency_key) values (%L, 'key-1')$$, :'owner'),
  '23505', null, 'the same idempotency key twice for one user is a conflict');
select lives_ok(
  format($$insert into public.conversations (user_id, idempotency_key) values (%L, 'key-1')$$, :'other'),
  'another user may use the same key');
select lives_ok(
  format($$insert into public.conversations (user_id) values (%L), (%L)$$, :'owner', :'owner'),
  'rows without a key do not conflict');
with repeated as (
  insert into public.conversations (user_id, idempotency_key) values (:'owner', 'key-1')
  on conflict (user_id, idempotency_key) do nothing returning 1
)
select is((select count(*)::int from repeated), 0,
  'insert ... on conflict (user_id, idempotency_key) do nothing is a no-op for a repeated key');
select throws_ok(
  format($$insert into public.conversations (user_id) values (%L)$$, gen_random_uuid()),
  '23503', null, 'user_id must be a real user');

-- ============================================================================================================
-- Triggers and cascades
-- ============================================================================================================
insert into public.conversations (conversation_id, user_id, persona_id, persona_key, created_at, updated_at)
values ('11111111-1111-4111-8111-111111111111', :'owner', '10000000-0000-4000-8000-000000000002',
        'anxious_planner', now() - interval '1 day', now() - interval '1 day');
update public.conversations set turn_count = 8 where conversation_id = '11111111-1111-4111-8111-111111111111';
select is((select updated_at from public.conversations
            where conversation_id = '11111111-1111-4111-8111-111111111111'), now(),
  'an update moves updated_at to now (trigger on_row_updated)');

delete from public.prompt_templates where emotional_arc_id = '20000000-0000-4000-8000-000000000003';
delete from public.personas where id = '10000000-0000-4000-8000-000000000002';
select results_eq(
  $$select persona_id, persona_key::text from public.conversations
     where conversation_id = '11111111-1111-4111-8111-111111111111'$$,
  $$values (null::uuid, 'anxious_planner')$$,
  'deleting a persona clears the link; the persona_key keeps the history');

insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
values ('11111111-1111-4111-8111-111111111111', 1, 'test', 'parsed');
delete from auth.users where id = :'owner';
select is((select count(*)::int from public.conversations where user_id = :'owner'), 0,
  'deleting a user deletes their conversations');
select is((select count(*)::int from public.conversation_parse_attempts
            where conversation_id = '11111111-1111-4111-8111-111111111111'), 0,
  'and, through them, their parse attempts');

select * from finish();
rollback;
