-- The RLS matrix, part 1: every table and view a client role could reach × every actor × every operation.
-- docs/SECURITY.md explains the model; 105 covers storage.objects by path, 110 functions and schemas.
--
-- Data-driven, like storage-api's src/test/rls_tests.yaml: one table of expectations (`rls_expect`, a row per
-- object × target × operation with one column per actor), one table of statements (`rls_target`: how to find
-- or make the target row), and one assertion generated per cell. Each attempt runs in a subtransaction that is
-- always rolled back, as the actor (role + request.jwt.claims, exactly as PostgREST and the Storage API set
-- them), so cells never see each other's writes.
--
-- Outcomes (tests.rls_attempt, file 100): ok (rows returned or changed), none (RLS hid the target), denied
-- (42501), read_only (55000: a view nobody can write), error:XXXXX (anything else, never expected).
-- A NULL cell is not asserted: the object belongs to the platform (auth, vault) and its answer for that actor is
-- Supabase's business, not this project's.
begin;
-- The storage trigger logs WARNINGs for objects it ignores; keep the TAP output readable.
set local client_min_messages = error;

select tests.create_supabase_user('rls_matrix_a') as a \gset
select tests.create_supabase_user('rls_matrix_b') as b \gset

-- ============================================================================================================
-- Fixture: one row per user in every per-user table, an active and an inactive row of every scaffolding
-- table, an alert, a threshold, a Vault secret and an empty bucket. The conversations sit in hour buckets a
-- thousand years from now (no other row shares them) and carry raw sizes of 1 TiB (A) and 1 PiB (B), so every
-- monitoring view can tell from its own output whether A's or B's row went into it.
-- ============================================================================================================
create temporary table rls_ids (label text primary key, id uuid not null default gen_random_uuid());
insert into rls_ids (label) values ('a1'), ('a2'), ('b1'), ('b2');
select id as a1 from rls_ids where label = 'a1' \gset
select id as a2 from rls_ids where label = 'a2' \gset
select id as b1 from rls_ids where label = 'b1' \gset
select id as b2 from rls_ids where label = 'b2' \gset

insert into public.conversations (conversation_id, user_id, created_at, processing_status, raw_response_path,
  raw_response_size, requires_manual_review, parse_error_message, parse_attempts)
values
  (:'a1', :'a', '2999-01-01 00:10+00', 'parse_failed', format('raw/%s/%s.json', :'a', :'a1'), 1099511627776,
   true, 'rls-matrix: error of A', 1),
  (:'b1', :'b', '2999-01-02 00:10+00', 'parse_failed', format('raw/%s/%s.json', :'b', :'b1'),
   1125899906842624, true, 'rls-matrix: error of B', 1),
  (:'a2', :'a', now(), 'raw_spooled', null, null, false, null, 0),
  (:'b2', :'b', now(), 'raw_spooled', null, null, false, null, 0);
insert into public.conversation_parse_attempts (conversation_id, user_id, attempt_number, parser_version, outcome)
values (:'a1', :'a', 1, 'rls-matrix', 'failed'), (:'b1', :'b', 1, 'rls-matrix', 'failed');
insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
values (:'a1', :'a', '\x7b7d', encode(sha256('\x7b7d'::bytea), 'hex'), 2),
       (:'b1', :'b', '\x7b7d', encode(sha256('\x7b7d'::bytea), 'hex'), 2);

insert into public.personas (persona_key, name, archetype, is_active)
values ('rls_matrix_active', 'RLS active', 'Fixture', true), ('rls_matrix_inactive', 'RLS inactive', 'Fixture', false);
insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion, is_active)
values ('rls_matrix_active', 'RLS active', 'fear', 'calm', true),
       ('rls_matrix_inactive', 'RLS inactive', 'fear', 'calm', false);
insert into public.training_topics (topic_key, name, is_active)
values ('rls_matrix_active', 'RLS active', true), ('rls_matrix_inactive', 'RLS inactive', false);
insert into public.prompt_templates (template_name, template_text, is_active)
values ('rls_matrix_active', 'fixture', true), ('rls_matrix_inactive', 'fixture', false);

insert into public.alerts (rule, severity, fired_at, peak_value, threshold, last_evaluated_at, notice_value,
  notice_queued_at)
values ('rls_matrix', 'warning', now(), 1, 1, now(), 1, now());
insert into public.alert_thresholds (rule, threshold, unit) values ('rls_matrix', 1, 'count');
select vault.create_secret('rls-matrix-secret-value', 'rls_matrix_secret') as secret_id \gset
insert into storage.buckets (id, name, public) values ('rls-matrix-empty', 'rls-matrix-empty', false);
insert into public.generation_batches (id, user_id, request_count, model, request_hash)
values (:'a1', :'a', 1, 'rls-matrix', repeat('a', 64)), (:'b1', :'b', 1, 'rls-matrix', repeat('b', 64));

-- ============================================================================================================
-- The objects (with a harmless assignment for UPDATE) and their targets (how to find the row; how to make a
-- new one of the same kind for INSERT)
-- ============================================================================================================
create temporary table rls_object (object text primary key, noop_set text not null);
insert into rls_object values
  ('public.conversations', 'review_notes = review_notes'),
  ('public.conversation_parse_attempts', 'error_message = error_message'),
  ('public.raw_response_spool', 'last_error = last_error'),
  ('public.generation_batches', 'last_error = last_error'),
  ('public.personas', 'name = name'),
  ('public.emotional_arcs', 'name = name'),
  ('public.training_topics', 'name = name'),
  ('public.prompt_templates', 'template_name = template_name'),
  ('public.alerts', 'details = details'),
  ('public.alert_thresholds', 'description = description'),
  ('public.raw_storage_health', 'total_conversations = total_conversations'),
  ('public.parse_success_hourly', 'total = total'),
  ('public.storage_growth_hourly', 'conversations = conversations'),
  ('public.parse_error_patterns', 'count = count'),
  ('public.raw_orphans', 'detail = detail'),
  ('storage.buckets', 'public = public'),
  ('auth.users', 'email = email'),
  ('vault.secrets', 'description = description'),
  ('vault.decrypted_secrets', 'description = description');

create temporary table rls_target (
  object text not null references rls_object,
  target text not null,
  predicate text not null,
  insert_sql text not null,
  primary key (object, target)
);
insert into rls_target
select object, target, predicate, insert_sql from (values
  ('public.conversations', 'row of A', format('conversation_id = %L', :'a1'),
   format('insert into public.conversations (user_id) values (%L)', :'a')),
  ('public.conversations', 'row of B', format('conversation_id = %L', :'b1'),
   format('insert into public.conversations (user_id) values (%L)', :'b')),
  ('public.conversation_parse_attempts', 'row of A', format('conversation_id = %L', :'a1'),
   format($$insert into public.conversation_parse_attempts (conversation_id, user_id, attempt_number,
     parser_version, outcome) values (%L, %L, 99, 'rls-matrix', 'failed')$$, :'a1', :'a')),
  ('public.conversation_parse_attempts', 'row of B', format('conversation_id = %L', :'b1'),
   format($$insert into public.conversation_parse_attempts (conversation_id, user_id, attempt_number,
     parser_version, outcome) values (%L, %L, 99, 'rls-matrix', 'failed')$$, :'b1', :'b')),
  ('public.raw_response_spool', 'row of A', format('conversation_id = %L', :'a1'),
   format($$insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
     values (%L, %L, '\x7b7d', encode(sha256('\x7b7d'::bytea), 'hex'), 2)$$, :'a2', :'a')),
  ('public.raw_response_spool', 'row of B', format('conversation_id = %L', :'b1'),
   format($$insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
     values (%L, %L, '\x7b7d', encode(sha256('\x7b7d'::bytea), 'hex'), 2)$$, :'b2', :'b')),
  ('public.generation_batches', 'row of A', format('id = %L', :'a1'),
   format($$insert into public.generation_batches (user_id, request_count, model, request_hash)
     values (%L, 1, 'rls-matrix', repeat('a', 64))$$, :'a')),
  ('public.generation_batches', 'row of B', format('id = %L', :'b1'),
   format($$insert into public.generation_batches (user_id, request_count, model, request_hash)
     values (%L, 1, 'rls-matrix', repeat('b', 64))$$, :'b')),
  ('public.personas', 'active row', $$persona_key = 'rls_matrix_active'$$,
   $$insert into public.personas (persona_key, name, archetype) values ('rls_matrix_new', 'n', 'n')$$),
  ('public.personas', 'inactive row', $$persona_key = 'rls_matrix_inactive'$$,
   $$insert into public.personas (persona_key, name, archetype, is_active) values ('rls_matrix_new', 'n', 'n', false)$$),
  ('public.emotional_arcs', 'active row', $$arc_key = 'rls_matrix_active'$$,
   $$insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion)
     values ('rls_matrix_new', 'n', 'a', 'b')$$),
  ('public.emotional_arcs', 'inactive row', $$arc_key = 'rls_matrix_inactive'$$,
   $$insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion, is_active)
     values ('rls_matrix_new', 'n', 'a', 'b', false)$$),
  ('public.training_topics', 'active row', $$topic_key = 'rls_matrix_active'$$,
   $$insert into public.training_topics (topic_key, name) values ('rls_matrix_new', 'n')$$),
  ('public.training_topics', 'inactive row', $$topic_key = 'rls_matrix_inactive'$$,
   $$insert into public.training_topics (topic_key, name, is_active) values ('rls_matrix_new', 'n', false)$$),
  ('public.prompt_templates', 'active row', $$template_name = 'rls_matrix_active'$$,
   $$insert into public.prompt_templates (template_name, template_text) values ('rls_matrix_new', 't')$$),
  ('public.prompt_templates', 'inactive row', $$template_name = 'rls_matrix_inactive'$$,
   $$insert into public.prompt_templates (template_name, template_text, is_active)
     values ('rls_matrix_new', 't', false)$$),
  ('public.alerts', 'an alert', $$rule = 'rls_matrix'$$,
   $$insert into public.alerts (rule, severity, fired_at, peak_value, threshold, last_evaluated_at, notice_value,
     notice_queued_at) values ('rls_matrix_new', 'warning', now(), 1, 1, now(), 1, now())$$),
  ('public.alert_thresholds', 'a threshold', $$rule = 'rls_matrix'$$,
   $$insert into public.alert_thresholds (rule, threshold, unit) values ('rls_matrix_new', 1, 'count')$$),
  -- Aggregates: A's 1 TiB is 2^20 MB and B's 1 PiB is 2^30 MB; anything else in the last 24 h is far below 1 TiB.
  ('public.raw_storage_health', 'rows of A', 'mod(raw_storage_mb, 1073741824) >= 1048576',
   'insert into public.raw_storage_health default values'),
  ('public.raw_storage_health', 'rows of B', 'raw_storage_mb >= 1073741824',
   'insert into public.raw_storage_health default values'),
  ('public.parse_success_hourly', 'rows of A', $$hour = date_trunc('hour', '2999-01-01 00:10+00'::timestamptz)$$,
   'insert into public.parse_success_hourly default values'),
  ('public.parse_success_hourly', 'rows of B', $$hour = date_trunc('hour', '2999-01-02 00:10+00'::timestamptz)$$,
   'insert into public.parse_success_hourly default values'),
  ('public.storage_growth_hourly', 'rows of A', $$hour = date_trunc('hour', '2999-01-01 00:10+00'::timestamptz)$$,
   'insert into public.storage_growth_hourly default values'),
  ('public.storage_growth_hourly', 'rows of B', $$hour = date_trunc('hour', '2999-01-02 00:10+00'::timestamptz)$$,
   'insert into public.storage_growth_hourly default values'),
  ('public.parse_error_patterns', 'rows of A', $$parse_error_message = 'rls-matrix: error of A'$$,
   'insert into public.parse_error_patterns default values'),
  ('public.parse_error_patterns', 'rows of B', $$parse_error_message = 'rls-matrix: error of B'$$,
   'insert into public.parse_error_patterns default values'),
  ('public.raw_orphans', 'rows of A', format('user_id = %L', :'a'),
   'insert into public.raw_orphans default values'),
  ('public.raw_orphans', 'rows of B', format('user_id = %L', :'b'),
   'insert into public.raw_orphans default values'),
  ('storage.buckets', 'conversation-files', $$id = 'conversation-files'$$,
   $$insert into storage.buckets (id, name) values ('rls-matrix-new', 'rls-matrix-new')$$),
  ('storage.buckets', 'an empty bucket', $$id = 'rls-matrix-empty'$$,
   $$insert into storage.buckets (id, name) values ('rls-matrix-new', 'rls-matrix-new')$$),
  ('auth.users', 'row of A', format('id = %L', :'a'),
   $$insert into auth.users (id, email) values (gen_random_uuid(), 'rls-matrix-new@test.local')$$),
  ('auth.users', 'row of B', format('id = %L', :'b'),
   $$insert into auth.users (id, email) values (gen_random_uuid(), 'rls-matrix-new@test.local')$$),
  ('vault.secrets', 'a secret', $$name = 'rls_matrix_secret'$$,
   $$insert into vault.secrets (secret, name) values ('x', 'rls_matrix_new')$$),
  ('vault.decrypted_secrets', 'a secret', $$name = 'rls_matrix_secret'$$,
   $$insert into vault.decrypted_secrets (secret, name) values ('x', 'rls_matrix_new')$$)
) t(object, target, predicate, insert_sql);

-- ============================================================================================================
-- The expectations: object × target × operation → anon, user A, user B, service role
-- ============================================================================================================
create temporary table rls_expect (
  object text not null,
  target text not null,
  op text not null check (op in ('select', 'insert', 'update', 'delete')),
  anon text,
  user_a text,
  user_b text,
  service_role text,
  primary key (object, target, op),
  foreign key (object, target) references rls_target
);
insert into rls_expect values
  -- Per-user tables: users read their own rows only and write nothing (writes go through the functions);
  -- the spool is the service role's alone; anon has no privilege at all.
  ('public.conversations', 'row of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.conversations', 'row of A', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversations', 'row of A', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversations', 'row of A', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversations', 'row of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.conversations', 'row of B', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversations', 'row of B', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversations', 'row of B', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.conversation_parse_attempts', 'row of A', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of A', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of A', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.conversation_parse_attempts', 'row of B', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of B', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.conversation_parse_attempts', 'row of B', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of A', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of A', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of A', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of A', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of B', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of B', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of B', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_response_spool', 'row of B', 'delete', 'denied', 'denied', 'denied', 'ok'),
  -- Batches (issue 20): like conversations, users read their own and write nothing.
  ('public.generation_batches', 'row of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.generation_batches', 'row of A', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.generation_batches', 'row of A', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.generation_batches', 'row of A', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.generation_batches', 'row of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.generation_batches', 'row of B', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.generation_batches', 'row of B', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.generation_batches', 'row of B', 'delete', 'denied', 'denied', 'denied', 'ok'),
  -- Scaffolding: signed-in users read the active rows; retired rows are hidden; only the service role edits.
  ('public.personas', 'active row', 'select', 'denied', 'ok', 'ok', 'ok'),
  ('public.personas', 'active row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.personas', 'active row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.personas', 'active row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.personas', 'inactive row', 'select', 'denied', 'none', 'none', 'ok'),
  ('public.personas', 'inactive row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.personas', 'inactive row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.personas', 'inactive row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'active row', 'select', 'denied', 'ok', 'ok', 'ok'),
  ('public.emotional_arcs', 'active row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'active row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'active row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'inactive row', 'select', 'denied', 'none', 'none', 'ok'),
  ('public.emotional_arcs', 'inactive row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'inactive row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.emotional_arcs', 'inactive row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'active row', 'select', 'denied', 'ok', 'ok', 'ok'),
  ('public.training_topics', 'active row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'active row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'active row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'inactive row', 'select', 'denied', 'none', 'none', 'ok'),
  ('public.training_topics', 'inactive row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'inactive row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.training_topics', 'inactive row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'active row', 'select', 'denied', 'ok', 'ok', 'ok'),
  ('public.prompt_templates', 'active row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'active row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'active row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'inactive row', 'select', 'denied', 'none', 'none', 'ok'),
  ('public.prompt_templates', 'inactive row', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'inactive row', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.prompt_templates', 'inactive row', 'delete', 'denied', 'denied', 'denied', 'ok'),
  -- Alerts and thresholds: operators' data, the service role's alone.
  ('public.alerts', 'an alert', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.alerts', 'an alert', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.alerts', 'an alert', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.alerts', 'an alert', 'delete', 'denied', 'denied', 'denied', 'ok'),
  ('public.alert_thresholds', 'a threshold', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.alert_thresholds', 'a threshold', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('public.alert_thresholds', 'a threshold', 'update', 'denied', 'denied', 'denied', 'ok'),
  ('public.alert_thresholds', 'a threshold', 'delete', 'denied', 'denied', 'denied', 'ok'),
  -- Monitoring views (security_invoker): a user's figures cover their own rows only; nobody writes a view.
  ('public.raw_storage_health', 'rows of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.raw_storage_health', 'rows of A', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_storage_health', 'rows of A', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_storage_health', 'rows of A', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_storage_health', 'rows of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.raw_storage_health', 'rows of B', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_storage_health', 'rows of B', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_storage_health', 'rows of B', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.parse_success_hourly', 'rows of A', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of A', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of A', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.parse_success_hourly', 'rows of B', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of B', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_success_hourly', 'rows of B', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.storage_growth_hourly', 'rows of A', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of A', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of A', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.storage_growth_hourly', 'rows of B', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of B', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.storage_growth_hourly', 'rows of B', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of A', 'select', 'denied', 'ok', 'none', 'ok'),
  ('public.parse_error_patterns', 'rows of A', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of A', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of A', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of B', 'select', 'denied', 'none', 'ok', 'ok'),
  ('public.parse_error_patterns', 'rows of B', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of B', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.parse_error_patterns', 'rows of B', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  -- raw_orphans reads storage.objects and auth.users for the monitor: operators only.
  ('public.raw_orphans', 'rows of A', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_orphans', 'rows of A', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_orphans', 'rows of A', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_orphans', 'rows of A', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_orphans', 'rows of B', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('public.raw_orphans', 'rows of B', 'insert', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_orphans', 'rows of B', 'update', 'read_only', 'read_only', 'read_only', 'read_only'),
  ('public.raw_orphans', 'rows of B', 'delete', 'read_only', 'read_only', 'read_only', 'read_only'),
  -- Buckets: the Storage schema grants everything to the client roles and relies on RLS, which has no policy
  -- on buckets here: clients see none, create none, change none.
  ('storage.buckets', 'conversation-files', 'select', 'none', 'none', 'none', 'ok'),
  ('storage.buckets', 'conversation-files', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('storage.buckets', 'conversation-files', 'update', 'none', 'none', 'none', 'ok'),
  ('storage.buckets', 'conversation-files', 'delete', 'none', 'none', 'none', null),
  ('storage.buckets', 'an empty bucket', 'select', 'none', 'none', 'none', 'ok'),
  ('storage.buckets', 'an empty bucket', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('storage.buckets', 'an empty bucket', 'update', 'none', 'none', 'none', 'ok'),
  ('storage.buckets', 'an empty bucket', 'delete', 'none', 'none', 'none', 'ok'),
  -- Platform objects: clients must not reach auth.users or Vault (the service key lives there); what the
  -- service role may do to them is the platform's decision (NULL: not asserted).
  ('auth.users', 'row of A', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('auth.users', 'row of A', 'insert', 'denied', 'denied', 'denied', null),
  ('auth.users', 'row of A', 'update', 'denied', 'denied', 'denied', null),
  ('auth.users', 'row of A', 'delete', 'denied', 'denied', 'denied', null),
  ('auth.users', 'row of B', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('auth.users', 'row of B', 'insert', 'denied', 'denied', 'denied', null),
  ('auth.users', 'row of B', 'update', 'denied', 'denied', 'denied', null),
  ('auth.users', 'row of B', 'delete', 'denied', 'denied', 'denied', null),
  ('vault.secrets', 'a secret', 'select', 'denied', 'denied', 'denied', null),
  ('vault.secrets', 'a secret', 'insert', 'denied', 'denied', 'denied', null),
  ('vault.secrets', 'a secret', 'update', 'denied', 'denied', 'denied', null),
  ('vault.secrets', 'a secret', 'delete', 'denied', 'denied', 'denied', null),
  ('vault.decrypted_secrets', 'a secret', 'select', 'denied', 'denied', 'denied', 'ok'),
  ('vault.decrypted_secrets', 'a secret', 'insert', 'denied', 'denied', 'denied', null),
  ('vault.decrypted_secrets', 'a secret', 'update', 'denied', 'denied', 'denied', null),
  ('vault.decrypted_secrets', 'a secret', 'delete', 'denied', 'denied', 'denied', null);

create temporary view rls_cells as
select e.object, e.target, e.op, a.n, a.actor, a.who, a.expected,
       case e.op
         when 'select' then format('select 1 from %s where %s', e.object, t.predicate)
         when 'update' then format('update %s set %s where %s', e.object, o.noop_set, t.predicate)
         when 'delete' then format('delete from %s where %s', e.object, t.predicate)
         when 'insert' then t.insert_sql
       end as stmt
  from rls_expect e
  join rls_target t using (object, target)
  join rls_object o using (object)
 cross join lateral (values (1, 'anon', 'anon', e.anon), (2, 'user_a', 'rls_matrix_a', e.user_a),
                            (3, 'user_b', 'rls_matrix_b', e.user_b),
                            (4, 'service_role', 'service_role', e.service_role)) a(n, actor, who, expected)
 where a.expected is not null;

select plan((select count(*)::int from rls_cells) + 3);

-- ============================================================================================================
-- The matrix is complete
-- ============================================================================================================
select is_empty(
  $$select c.relname::text from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
    except select split_part(object, '.', 2) from rls_object where object like 'public.%'$$,
  'every table and view of schema public has rows in the matrix (a new one must be added here)');
select is_empty(
  $$select object, target, op from rls_target cross join (values ('select'), ('insert'), ('update'), ('delete')) o(op)
    except select object, target, op from rls_expect$$,
  'every object and target has an expectation for select, insert, update and delete');
select is_empty(
  $$select object from rls_object except select object from rls_target$$,
  'every object has at least one target');

-- ============================================================================================================
-- The cells, one assertion each
-- ============================================================================================================
select is(tests.rls_attempt(who, stmt), expected, format('%s: %s %s (%s)', actor, op, object, target))
  from rls_cells
 order by object, target, op, n;

select * from finish();
rollback;
