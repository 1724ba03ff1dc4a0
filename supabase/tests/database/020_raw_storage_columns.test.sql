-- The seed's migration (supabase/migrations/20251117000200_add_raw_response_storage_columns.sql): the nine
-- columns with upstream's types, defaults and comments, the two partial indexes, the checklist's Step 2 query,
-- and backwards compatibility for code that never mentions the columns.
begin;
set local client_min_messages = warning;
select plan(33);

select tests.create_supabase_user('t020_owner') as owner \gset

-- ============================================================================================================
-- The nine columns
-- ============================================================================================================
select col_type_is('public', 'conversations', c, t, format('%s is %s (upstream''s type)', c, t))
  from (values
    ('raw_response_url', 'text'), ('raw_response_path', 'text'), ('raw_response_size', 'bigint'),
    ('raw_stored_at', 'timestamp with time zone'), ('parse_attempts', 'integer'),
    ('last_parse_attempt_at', 'timestamp with time zone'), ('parse_error_message', 'text'),
    ('parse_method_used', 'character varying(50)'), ('requires_manual_review', 'boolean')
  ) v(c, t);
select col_default_is('public', 'conversations', 'parse_attempts', 0, 'parse_attempts defaults to 0');
select col_default_is('public', 'conversations', 'requires_manual_review', false,
  'requires_manual_review defaults to false');
select isnt(col_description('public.conversations'::regclass, a.attnum), null,
            format('%s has a column comment', a.attname))
  from pg_attribute a
 where a.attrelid = 'public.conversations'::regclass
   and a.attname in ('raw_response_url', 'raw_response_path', 'raw_response_size', 'raw_stored_at',
                     'parse_attempts', 'last_parse_attempt_at', 'parse_error_message', 'parse_method_used',
                     'requires_manual_review')
 order by a.attname;

-- ============================================================================================================
-- The checklist's Step 2 verification query, verbatim: "Expected: 9 rows"
-- ============================================================================================================
-- Wrapped only to compare as text (its columns are information_schema domains).
select results_eq(
  $$select column_name::text collate "default", data_type::text collate "default" from (
SELECT column_name, data_type
FROM information_schema.columns
WHERE table_name = 'conversations'
  AND column_name IN (
    'raw_response_url', 'raw_response_path', 'raw_response_size',
    'raw_stored_at', 'parse_attempts', 'last_parse_attempt_at',
    'parse_error_message', 'parse_method_used', 'requires_manual_review'
  )
ORDER BY column_name
) step2$$,
  $$values ('last_parse_attempt_at', 'timestamp with time zone'),
           ('parse_attempts', 'integer'), ('parse_error_message', 'text'),
           ('parse_method_used', 'character varying'), ('raw_response_path', 'text'),
           ('raw_response_size', 'bigint'), ('raw_response_url', 'text'),
           ('raw_stored_at', 'timestamp with time zone'), ('requires_manual_review', 'boolean')$$,
  'the checklist''s Step 2 query returns its 9 rows, in its order, with upstream''s types');

-- ============================================================================================================
-- The two partial indexes
-- ============================================================================================================
select has_index('public', 'conversations', 'idx_conversations_requires_review', 'requires_manual_review',
  'idx_conversations_requires_review indexes requires_manual_review');
select has_index('public', 'conversations', 'idx_conversations_parse_attempts', 'parse_attempts',
  'idx_conversations_parse_attempts indexes parse_attempts');
select is((select pg_get_expr(indpred, indrelid) from pg_index
            where indexrelid = 'public.idx_conversations_requires_review'::regclass),
  '(requires_manual_review = true)', 'idx_conversations_requires_review is partial: WHERE requires_manual_review');
select is((select pg_get_expr(indpred, indrelid) from pg_index
            where indexrelid = 'public.idx_conversations_parse_attempts'::regclass),
  '(parse_attempts > 0)', 'idx_conversations_parse_attempts is partial: WHERE parse_attempts > 0');

-- ============================================================================================================
-- Backwards compatibility (checklist: "Rollback Required: No (backwards compatible)")
-- ============================================================================================================
-- Code written before the migration: it names none of the nine columns.
insert into public.conversations (conversation_id, user_id, tier, processing_status)
values ('22222222-2222-4222-8222-222222222222', :'owner', 'template', 'completed');
select results_eq(
  $$select parse_attempts, requires_manual_review, raw_response_path
      from public.conversations where conversation_id = '22222222-2222-4222-8222-222222222222'$$,
  $$values (0, false, null::text)$$,
  'an insert that names none of the nine columns works and gets the defaults');

-- The seed's own writes (upstream storeRawResponse / parseAndStoreFinal), by their columns.
select lives_ok($$
  update conversations
     set raw_response_path = 'raw/x/22222222-2222-4222-8222-222222222222.json', raw_response_size = 8517,
         raw_stored_at = now(), processing_status = 'raw_stored'
   where conversation_id = '22222222-2222-4222-8222-222222222222'$$,
  'the seed''s raw-store update works');
select lives_ok($$
  update conversations
     set parse_attempts = parse_attempts + 1, last_parse_attempt_at = now(), requires_manual_review = true,
         processing_status = 'parse_failed', parse_error_message = 'Direct parse: Unterminated string'
   where conversation_id = '22222222-2222-4222-8222-222222222222'$$,
  'the seed''s parse-failure update works');
select lives_ok($$
  update conversations set parse_method_used = 'jsonrepair', requires_manual_review = false,
         processing_status = 'completed'
   where conversation_id = '22222222-2222-4222-8222-222222222222'$$,
  'the seed''s parse-success update (method jsonrepair) works');

-- Hardening by 20251117000300: the two seed columns with defaults are also NOT NULL.
select throws_ok(
  format($$insert into public.conversations (user_id, parse_attempts) values (%L, null)$$, :'owner'),
  '23502', null, 'parse_attempts cannot be null (parse_attempts + 1 must always count)');
select throws_ok(
  format($$insert into public.conversations (user_id, requires_manual_review) values (%L, null)$$, :'owner'),
  '23502', null, 'requires_manual_review cannot be null (a null would hide a row from the review queue)');

-- ============================================================================================================
-- Idempotent: applying the migration's statements again changes nothing
-- ============================================================================================================
create temporary table t020_before as
  select a.attname::text, format_type(a.atttypid, a.atttypmod) as type, pg_get_expr(d.adbin, d.adrelid) as def
    from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where a.attrelid = 'public.conversations'::regclass and a.attnum > 0 and not a.attisdropped;
select lives_ok($$
  alter table conversations
    add column if not exists raw_response_url text,
    add column if not exists raw_response_path text,
    add column if not exists raw_response_size bigint,
    add column if not exists raw_stored_at timestamptz;
  alter table conversations
    add column if not exists parse_attempts integer default 0,
    add column if not exists last_parse_attempt_at timestamptz,
    add column if not exists parse_error_message text,
    add column if not exists parse_method_used varchar(50);
  alter table conversations add column if not exists requires_manual_review boolean default false;
  create index if not exists idx_conversations_requires_review
    on conversations (requires_manual_review) where requires_manual_review = true;
  create index if not exists idx_conversations_parse_attempts
    on conversations (parse_attempts) where parse_attempts > 0$$,
  'the migration''s statements run again without error (the full file twice: tests/integration/database)');
select set_eq(
  $$select a.attname::text, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid)
      from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = 'public.conversations'::regclass and a.attnum > 0 and not a.attisdropped$$,
  $$select * from t020_before$$,
  'and leave every column, type and default as it was');

select * from finish();
rollback;
