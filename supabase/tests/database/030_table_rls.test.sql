-- Row level security and privileges on the tables and views of this schema
-- (supabase/migrations/20251117000600_enable_rls_and_grants.sql, 20251117000800_create_monitoring_views.sql).
-- The matrix by actor: owner, other user, anon, service role. Users only ever read; writes go through functions.
begin;
select plan(52);

select tests.create_supabase_user('t030_owner') as owner \gset
select tests.create_supabase_user('t030_other') as other \gset
insert into public.conversations (conversation_id, user_id, processing_status, raw_response_path)
values ('44444444-4444-4444-8444-000000000001', :'owner', 'completed', 'raw/o/1.json'),
       ('44444444-4444-4444-8444-000000000002', :'owner', 'parse_failed', 'raw/o/2.json'),
       ('44444444-4444-4444-8444-000000000003', :'other', 'completed', 'raw/x/3.json');
insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
values ('44444444-4444-4444-8444-000000000001', 1, 't', 'parsed'),
       ('44444444-4444-4444-8444-000000000003', 1, 't', 'parsed');
update public.personas set is_active = false where id = '10000000-0000-4000-8000-000000000006';

-- ============================================================================================================
-- RLS everywhere, privileges exactly as granted
-- ============================================================================================================
select tests.rls_enabled('public');
select table_privs_are('public', t, 'anon', array[]::text[], format('anon has no privilege on %s', t))
  from unnest(array['personas', 'emotional_arcs', 'training_topics', 'prompt_templates', 'conversations',
                    'conversation_parse_attempts', 'raw_response_spool', 'raw_storage_health',
                    'parse_success_hourly', 'storage_growth_hourly', 'parse_error_patterns']) t;
select table_privs_are('public', t, 'authenticated', array['SELECT'], format('authenticated may only SELECT %s', t))
  from unnest(array['personas', 'emotional_arcs', 'training_topics', 'prompt_templates', 'conversations',
                    'conversation_parse_attempts', 'raw_storage_health', 'parse_success_hourly',
                    'storage_growth_hourly', 'parse_error_patterns']) t;
select table_privs_are('public', 'raw_response_spool', 'authenticated', array[]::text[],
  'authenticated has no privilege on raw_response_spool');
select table_privs_are('public', t, 'service_role',
  array['DELETE', 'INSERT', 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'],
  format('service_role has every privilege on %s', t))
  from unnest(array['personas', 'emotional_arcs', 'training_topics', 'prompt_templates', 'conversations',
                    'conversation_parse_attempts', 'raw_response_spool']) t;
select schema_privs_are('private', 'anon', array[]::text[], 'anon cannot even look into schema private');

-- ============================================================================================================
-- Owner
-- ============================================================================================================
select tests.authenticate_as('t030_owner');
select results_eq(
  $$select conversation_id::text from public.conversations order by conversation_id$$,
  $$values ('44444444-4444-4444-8444-000000000001'), ('44444444-4444-4444-8444-000000000002')$$,
  'the owner sees exactly their own two conversations');
select results_eq(
  $$select conversation_id::text from public.conversation_parse_attempts$$,
  $$values ('44444444-4444-4444-8444-000000000001')$$,
  'and only the parse attempts of their own conversations');
select is_empty($$select 1 from public.personas where id = '10000000-0000-4000-8000-000000000006'$$,
  'an inactive persona is hidden');
select cmp_ok((select count(*)::int from public.personas), '>=', 5, 'active personas are readable');
select cmp_ok((select count(*)::int from public.prompt_templates), '>=', 1, 'active templates are readable');
select throws_ok(
  format($$insert into public.conversations (user_id) values (%L)$$, :'owner'),
  '42501', null, 'the owner cannot insert a conversation directly (writes go through functions)');
select throws_ok(
  $$update public.conversations set processing_status = 'completed'
     where conversation_id = '44444444-4444-4444-8444-000000000002'$$,
  '42501', null, 'the owner cannot change their conversation''s status');
select throws_ok(
  $$delete from public.conversations where conversation_id = '44444444-4444-4444-8444-000000000001'$$,
  '42501', null, 'the owner cannot delete a conversation directly');
select throws_ok(
  $$insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome)
    values ('44444444-4444-4444-8444-000000000002', 9, 't', 'parsed')$$,
  '42501', null, 'the owner cannot forge a parse attempt');
select throws_ok($$select * from public.raw_response_spool$$, '42501', null,
  'the owner cannot read the spool');
select throws_ok($$update public.personas set name = 'x'$$, '42501', null, 'the owner cannot edit scaffolding');
select tests.as_owner();

-- ============================================================================================================
-- Other user
-- ============================================================================================================
select tests.authenticate_as('t030_other');
select results_eq(
  $$select conversation_id::text from public.conversations$$,
  $$values ('44444444-4444-4444-8444-000000000003')$$,
  'another user sees only their own conversation, none of the owner''s');
select is_empty(
  $$select 1 from public.conversations where conversation_id = '44444444-4444-4444-8444-000000000001'$$,
  'even when asking for the owner''s conversation by id');
select results_eq(
  $$select conversation_id::text from public.conversation_parse_attempts$$,
  $$values ('44444444-4444-4444-8444-000000000003')$$,
  'and only their own parse attempts');
select tests.as_owner();

-- ============================================================================================================
-- anon
-- ============================================================================================================
select tests.clear_authentication();
select throws_ok($$select * from public.conversations$$, '42501', null, 'anon cannot read conversations');
select throws_ok($$select * from public.personas$$, '42501', null, 'anon cannot read scaffolding');
select throws_ok($$select * from public.raw_storage_health$$, '42501', null, 'anon cannot read the health view');
select throws_ok($$select private.can_upload_raw_object('raw/x/y.json')$$, '42501', null,
  'anon cannot call helpers in schema private');
select tests.as_owner();

-- ============================================================================================================
-- Service role
-- ============================================================================================================
select tests.authenticate_as_service_role();
select cmp_ok((select count(*)::int from public.conversations
                where conversation_id::text like '44444444-4444-4444-8444-%'), '=', 3,
  'the service role sees every user''s conversations');
select lives_ok(
  $$update public.conversations set processing_status = 'raw_stored'
     where conversation_id = '44444444-4444-4444-8444-000000000002'$$,
  'the service role writes conversations');
select is((select count(*)::int from public.personas where id = '10000000-0000-4000-8000-000000000006'), 1,
  'and sees inactive scaffolding');
select tests.as_owner();

select * from finish();
rollback;
