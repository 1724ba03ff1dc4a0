-- Bucket conversation-files and its storage.objects policies
-- (supabase/migrations/20251117000700_create_conversation_files_bucket.sql).
-- Users read raw/{own uid}/… and {own uid}/…; may upload a new raw response of their own (decision in
-- docs/DATABASE.md); nobody but the service role updates or deletes. Objects are written here the way the Storage
-- API's permission probe does it: an INSERT as the caller, under RLS.
begin;
-- The storage trigger (another migration) logs WARNINGs for objects it ignores; keep the output readable.
set local client_min_messages = error;
select plan(31);

select tests.create_supabase_user('t035_a') as a \gset
select tests.create_supabase_user('t035_b') as b \gset
create temporary table t035_ids (label text primary key, id uuid not null default gen_random_uuid());
insert into t035_ids (label) values ('a_done'), ('a_generating'), ('b_done'), ('a_new'), ('a_new2'), ('b_new');
grant select on t035_ids to authenticated, anon, service_role;
create function pg_temp.id(p_label text) returns text language sql as $$
  select id::text from t035_ids where label = p_label
$$;
grant execute on function pg_temp.id(text) to authenticated, anon, service_role;

insert into public.conversations (conversation_id, user_id, processing_status)
values (pg_temp.id('a_done')::uuid, :'a', 'completed'),
       (pg_temp.id('a_generating')::uuid, :'a', 'generating'),
       (pg_temp.id('b_done')::uuid, :'b', 'completed');
insert into storage.buckets (id, name, public) values ('t035-other-bucket', 't035-other-bucket', false);
insert into storage.objects (bucket_id, name, metadata) values
  ('conversation-files', format('raw/%s/%s.json', :'a', pg_temp.id('a_done')), '{"size": 10}'),
  ('conversation-files', format('%s/%s/conversation.json', :'a', pg_temp.id('a_done')), '{"size": 5}'),
  ('conversation-files', format('raw/%s/%s.json', :'b', pg_temp.id('b_done')), '{"size": 10}'),
  ('conversation-files', format('%s/%s/conversation.json', :'b', pg_temp.id('b_done')), '{"size": 5}'),
  ('t035-other-bucket', format('raw/%s/%s.json', :'a', pg_temp.id('a_done')), '{"size": 10}');

-- ============================================================================================================
-- Bucket and policies
-- ============================================================================================================
select results_eq(
  $$select public, file_size_limit, allowed_mime_types from storage.buckets where id = 'conversation-files'$$,
  $$values (false, 10485760::bigint, array['application/json'])$$,
  'conversation-files is private, 10 MB per object, application/json only');
select ok((select relrowsecurity from pg_class where oid = 'storage.objects'::regclass),
  'storage.objects has row level security enabled');
select policy_cmd_is('storage', 'objects', p, c, format('policy "%s" is for %s', p, c))
  from (values ('conversation-files: users read own raw responses', 'select'),
               ('conversation-files: users read own conversations', 'select'),
               ('conversation-files: users upload new raw responses', 'insert')) v(p, c);
select policy_roles_are('storage', 'objects', p, array['authenticated'], format('policy "%s" is for authenticated', p))
  from unnest(array['conversation-files: users read own raw responses',
                    'conversation-files: users read own conversations',
                    'conversation-files: users upload new raw responses']) p;
select is_empty(
  $$select policyname from pg_policies
     where schemaname = 'storage' and tablename = 'objects' and cmd in ('UPDATE', 'DELETE', 'ALL')
       and (qual like '%conversation-files%' or with_check like '%conversation-files%')$$,
  'no UPDATE, DELETE or ALL policy exists for conversation-files: objects are write-once for users');
select ok((select prosecdef and proconfig @> array['search_path=""']
             from pg_proc where oid = 'private.can_upload_raw_object'::regproc),
  'the upload helper is security definer with an empty search_path');

-- ============================================================================================================
-- User A: reads
-- ============================================================================================================
select tests.authenticate_as('t035_a');
select set_eq(
  $$select name from storage.objects where bucket_id = 'conversation-files'$$,
  format($$values ('raw/%s/%s.json'), ('%s/%s/conversation.json')$$,
         :'a', pg_temp.id('a_done'), :'a', pg_temp.id('a_done')),
  'A reads exactly their own raw response and conversation file');
select is_empty(format($$select 1 from storage.objects where name like '%%%s%%'$$, :'b'),
  'A cannot read any of B''s objects, raw or final');
select is_empty($$select 1 from storage.objects where bucket_id = 't035-other-bucket'$$,
  'the policies do not reach into other buckets');

-- ============================================================================================================
-- User A: write-once
-- ============================================================================================================
set local storage.allow_delete_query = 'true';  -- as the Storage API sets it for a remove
with changed as (
  update storage.objects set metadata = '{"size": 1}' where bucket_id = 'conversation-files' returning 1
)
select is((select count(*)::int from changed), 0, 'A cannot update any object, not even their own raw response');
with removed as (delete from storage.objects where bucket_id = 'conversation-files' returning 1)
select is((select count(*)::int from removed), 0, 'A cannot delete any object, not even their own');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')
           on conflict (bucket_id, name) do update set metadata = '{"size": 1}'$$, :'a', pg_temp.id('a_done')),
  '42501', null, 'A cannot overwrite their own raw response with an upsert');
reset storage.allow_delete_query;

-- ============================================================================================================
-- User A: uploads
-- ============================================================================================================
select lives_ok(
  format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
           values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 20}')$$,
         :'a', pg_temp.id('a_new'), :'a'),
  'A may upload a raw response under raw/{own uid}/ for a new conversation id');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'b', pg_temp.id('b_new')),
  '42501', null, 'A cannot upload into B''s raw folder');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'a', pg_temp.id('b_done')),
  '42501', null, 'A cannot upload under their own folder with the id of B''s conversation (no forged parse)');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'a', pg_temp.id('a_generating')),
  '42501', null, 'A cannot upload the raw response of their own conversation still being generated');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'a', upper(pg_temp.id('a_new2'))),
  '42501', null, 'an uppercase id is refused (one spelling per conversation)');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.txt')$$,
         :'a', pg_temp.id('a_new2')),
  '42501', null, 'a name that is not {uuid}.json is refused');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/x/%s.json')$$,
         :'a', pg_temp.id('a_new2')),
  '42501', null, 'a nested name under raw/{uid}/ is refused');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', '%s/%s/conversation.json')$$,
         :'a', pg_temp.id('a_new2')),
  '42501', null, 'A cannot write a final conversation file (the parse step does)');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('t035-other-bucket', 'raw/%s/%s.json')$$,
         :'a', pg_temp.id('a_new2')),
  '42501', null, 'A cannot upload into a bucket without a policy for it');
select tests.as_owner();
select is((select user_id::text from public.conversations where conversation_id = pg_temp.id('a_new')::uuid), :'a',
  'the conversation started by A''s upload (if the storage trigger creates one) can only belong to A')
  where exists (select 1 from public.conversations where conversation_id = pg_temp.id('a_new')::uuid)
union all
select pass('no storage trigger created a row for the upload')
  where not exists (select 1 from public.conversations where conversation_id = pg_temp.id('a_new')::uuid);

-- ============================================================================================================
-- User B
-- ============================================================================================================
select tests.authenticate_as('t035_b');
select set_eq(
  $$select name from storage.objects where bucket_id = 'conversation-files'$$,
  format($$values ('raw/%s/%s.json'), ('%s/%s/conversation.json')$$,
         :'b', pg_temp.id('b_done'), :'b', pg_temp.id('b_done')),
  'B reads exactly their own objects, and not A''s new upload');
select tests.as_owner();

-- ============================================================================================================
-- anon
-- ============================================================================================================
select tests.clear_authentication();
select is_empty($$select 1 from storage.objects$$, 'anon sees no object at all');
select throws_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'a', pg_temp.id('a_new2')),
  '42501', null, 'anon cannot upload');
select tests.as_owner();

-- ============================================================================================================
-- Service role
-- ============================================================================================================
select tests.authenticate_as_service_role();
select cmp_ok((select count(*)::int from storage.objects where bucket_id = 'conversation-files'), '>=', 5,
  'the service role sees every object');
with changed as (
  update storage.objects set user_metadata = '{"checked": true}'
   where bucket_id = 'conversation-files' and name = format('raw/%s/%s.json', :'a', pg_temp.id('a_done'))
  returning 1
)
select is((select count(*)::int from changed), 1, 'the service role can update an object row');
select tests.as_owner();

select * from finish();
rollback;
