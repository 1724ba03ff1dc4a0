-- The storage trigger on_raw_object_stored and private.record_raw_object
-- (supabase/migrations/20251119000000_create_raw_object_trigger.sql).
-- Objects are written the way the Storage API's final write does it: as service_role, auth.uid() null, the
-- uploader's sub in owner_id (null for the service key), INSERT for a new object, UPDATE for an upsert.
begin;
-- The trigger's WARNINGs for ignored objects are expected here; keep the test output readable.
set local client_min_messages = error;
select plan(37);

select tests.create_supabase_user('t050_owner') as owner \gset
select tests.create_supabase_user('t050_other') as other \gset
-- Wake-ups need both Vault secrets; a fresh pair for this transaction (rolled back at the end).
delete from vault.secrets where name in ('project_url', 'service_role_key');
select vault.create_secret('http://127.0.0.1:9', 'project_url');
select vault.create_secret('test-service-key', 'service_role_key');

create temporary table t050_ids (label text primary key, id uuid not null default gen_random_uuid());
insert into t050_ids (label) values ('generated'), ('orphan'), ('nouser_user'), ('nouser_conv'), ('forged'),
  ('victim'), ('upsert'), ('manual'), ('broken'), ('nosecret'), ('useronly');
grant select on t050_ids to service_role;
create function pg_temp.id(p_label text) returns uuid language sql as $$
  select id from t050_ids where label = p_label
$$;
create function pg_temp.wakeups_for(p_id uuid) returns bigint language sql as $$
  select count(*) from net.http_request_queue
   where url like '%/functions/v1/parse-conversation'
     and convert_from(body, 'UTF8')::jsonb ->> 'conversation_id' = p_id::text
$$;

-- ============================================================================================================
-- Shape
-- ============================================================================================================
select trigger_is('storage', 'objects', 'on_raw_object_stored', 'private', 'on_raw_object_stored',
  'the trigger on storage.objects calls private.on_raw_object_stored()');
select ok((select tgtype & 2 = 0 and tgtype & 4 <> 0 and tgtype & 16 <> 0
             from pg_trigger where tgname = 'on_raw_object_stored'),
  'it fires AFTER INSERT and AFTER UPDATE');
select ok((select prosecdef and proconfig @> array['search_path=""']
             from pg_proc where oid = 'private.on_raw_object_stored'::regproc),
  'the trigger function is security definer with an empty search_path');
select is(private.raw_object_user_id('raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.json'), :'owner'::uuid,
  'raw_object_user_id() reads the user id from the path');
select is(private.raw_object_conversation_id('raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.json'),
  pg_temp.id('orphan'), 'raw_object_conversation_id() reads the conversation id');
select is(
  (select count(*)::int from (values
     ('raw/' || upper(:'owner') || '/' || pg_temp.id('orphan') || '.json'),
     ('raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.JSON'),
     ('raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.json.bak'),
     ('raw/' || :'owner' || '/x/' || pg_temp.id('orphan') || '.json'),
     ('raw/' || replace(:'owner', '-', '') || '----/' || pg_temp.id('orphan') || '.json'),
     ('raw/' || :'owner' || '-' || pg_temp.id('orphan') || '.json'),
     ('raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.json/x'),
     (:'owner' || '/' || pg_temp.id('orphan') || '/conversation.json')) v(name)
    where private.raw_object_conversation_id(name) is not null), 0,
  'names not of the form raw/{uuid}/{uuid}.json (uppercase, misplaced dashes, other suffixes) are not ours');

-- ============================================================================================================
-- Service role: the generate flow's upload
-- ============================================================================================================
insert into public.conversations (conversation_id, user_id, processing_status, raw_sha256)
values (pg_temp.id('generated'), :'owner', 'generating', repeat('a', 64));

select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, owner_id, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('generated') || '.json', null,
        '{"size": 4321, "mimetype": "application/json"}');
select tests.as_owner();

select results_eq(
  format($$select processing_status::text, raw_response_path, raw_response_size, raw_stored_at = now(),
                  next_attempt_at = now()
             from public.conversations where conversation_id = %L$$, pg_temp.id('generated')),
  format($$values ('raw_stored', 'raw/%s/%s.json', 4321::bigint, true, true)$$, :'owner', pg_temp.id('generated')),
  'an upload marks the row raw_stored with path, size and time, due at once');
select is(pg_temp.wakeups_for(pg_temp.id('generated')), 1::bigint,
  'and queues one wake-up for parse-conversation with the conversation id');
select is((select headers ->> 'Authorization' from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ->> 'conversation_id' = pg_temp.id('generated')::text),
  'Bearer test-service-key', 'the wake-up carries the service key from Vault');
select is((select convert_from(body, 'UTF8')::jsonb ->> 'source' from net.http_request_queue
            where convert_from(body, 'UTF8')::jsonb ->> 'conversation_id' = pg_temp.id('generated')::text),
  'trigger', 'the wake-up says it came from the trigger');

-- An orphan: no row yet (the database was unreachable when generation ended).
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.json', '{"size": 99}');
select tests.as_owner();
select results_eq(
  format($$select user_id, processing_status::text, raw_response_size, tier, persona_id
             from public.conversations where conversation_id = %L$$, pg_temp.id('orphan')),
  format($$values (%L::uuid, 'raw_stored', 99::bigint, null::varchar, null::uuid)$$, :'owner'),
  'an orphaned raw object creates its row (user from the path, no scaffolding)');
select is(pg_temp.wakeups_for(pg_temp.id('orphan')), 1::bigint, 'and wakes the parse');

-- An orphan whose path names no user: nothing can own a row.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name)
values ('conversation-files', 'raw/' || pg_temp.id('nouser_user') || '/' || pg_temp.id('nouser_conv') || '.json');
select tests.as_owner();
select is((select count(*) from public.conversations where conversation_id = pg_temp.id('nouser_conv')), 0::bigint,
  'an object whose path names no user records no row');
select is((select kind || '/' || detail from public.raw_orphans where conversation_id = pg_temp.id('nouser_conv')),
  'object_without_row/no_auth_user', 'raw_orphans reports it');
select is((select count(*) from storage.objects where name like '%' || pg_temp.id('nouser_conv') || '%'),
  1::bigint, 'and the object itself is kept');

-- ============================================================================================================
-- Forged objects never start a parse
-- ============================================================================================================
-- A user's object under their own folder, for a conversation that belongs to someone else.
insert into public.conversations (conversation_id, user_id, processing_status)
values (pg_temp.id('victim'), :'owner', 'generating');
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, owner_id)
values ('conversation-files', 'raw/' || :'other' || '/' || pg_temp.id('victim') || '.json', :'other');
select tests.as_owner();
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('victim')),
  'generating', 'an object naming another user''s conversation does not touch that row');
select is(pg_temp.wakeups_for(pg_temp.id('victim')), 0::bigint, 'and wakes nothing');
select is((select detail from public.raw_orphans where conversation_id = pg_temp.id('victim')),
  'row_of_other_user', 'raw_orphans reports it as forged');

-- An object under the owner's folder uploaded by another signed-in user.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, owner_id)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('forged') || '.json', :'other');
select tests.as_owner();
select is((select count(*) from public.conversations where conversation_id = pg_temp.id('forged')), 0::bigint,
  'an object uploaded by a user other than the one in its path creates no row');
select is(pg_temp.wakeups_for(pg_temp.id('forged')), 0::bigint, 'and wakes nothing');
select is((select kind || '/' || detail from public.raw_orphans where conversation_id = pg_temp.id('forged')),
  'object_forged/uploaded_by_other_user', 'raw_orphans reports the uploader mismatch');

-- A user's own upload to their own folder (allowed by the bucket's policies) is parsed like any other.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, owner_id)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('useronly') || '.json', :'owner');
select tests.as_owner();
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('useronly')),
  'raw_stored', 'an object uploaded by the user in its path is recorded');

-- ============================================================================================================
-- Objects the pipeline does not own
-- ============================================================================================================
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name) values
  ('conversation-files', :'owner' || '/' || pg_temp.id('orphan') || '/conversation.json'),
  ('conversation-files', 'raw/' || :'owner' || '/notes.json'),
  ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('orphan') || '.txt'),
  ('conversation-files', 'raw/' || upper(:'owner') || '/' || gen_random_uuid() || '.json');
select tests.as_owner();
select is((select count(*) from public.conversations where user_id = :'owner'), 4::bigint,
  'final files, other names under raw/ and uppercase ids create no rows');
select is((select count(*) from net.http_request_queue), 3::bigint,
  'and queue no wake-ups (only the three recorded objects did)');

select is((select outcome from private.record_raw_object('other-bucket', 'raw/' || :'owner' || '/' || gen_random_uuid()
                                                          || '.json', null, 1)),
  'ignored_bucket', 'record_raw_object() ignores other buckets');

-- ============================================================================================================
-- UPDATE: an upsert over an existing raw object
-- ============================================================================================================
insert into public.conversations (conversation_id, user_id, processing_status, parse_method_used, file_path,
                                  raw_response_path, parse_attempts, requires_manual_review)
values (pg_temp.id('upsert'), :'owner', 'completed', 'direct', 'final/path', 'old', 1, false);
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, metadata, version)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('upsert') || '.json', '{"size": 1}', 'v1');
select tests.as_owner();
update public.conversations set processing_status = 'completed' where conversation_id = pg_temp.id('upsert');
delete from net.http_request_queue;

-- Touching last_accessed_at is not an upload.
select tests.authenticate_as_service_role();
update storage.objects set last_accessed_at = now() + interval '1 minute'
 where name = 'raw/' || :'owner' || '/' || pg_temp.id('upsert') || '.json';
select tests.as_owner();
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('upsert')),
  'completed', 'an UPDATE that is not a new upload changes nothing');

-- The upsert path: ON CONFLICT DO UPDATE fires UPDATE triggers with new metadata and version.
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name, metadata, version)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('upsert') || '.json', '{"size": 2222}', 'v2')
on conflict (bucket_id, name) do update set metadata = excluded.metadata, version = excluded.version;
select tests.as_owner();
select results_eq(
  format($$select processing_status::text, raw_response_size, raw_response_path, file_path
             from public.conversations where conversation_id = %L$$, pg_temp.id('upsert')),
  format($$values ('raw_stored', 2222::bigint, 'raw/%s/%s.json', 'final/path')$$, :'owner', pg_temp.id('upsert')),
  'an upsert re-marks even a completed row raw_stored with the new size (the parse checks the sha256)');
select is(pg_temp.wakeups_for(pg_temp.id('upsert')), 1::bigint, 'and wakes the parse again');

-- A conversation resolved by hand in review keeps the reviewer's work.
insert into public.conversations (conversation_id, user_id, processing_status, parse_method_used)
values (pg_temp.id('manual'), :'owner', 'completed', 'manual');
select tests.authenticate_as_service_role();
insert into storage.objects (bucket_id, name)
values ('conversation-files', 'raw/' || :'owner' || '/' || pg_temp.id('manual') || '.json');
select tests.as_owner();
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('manual')),
  'completed', 'an object for a conversation resolved by hand does not reopen it');
select is(pg_temp.wakeups_for(pg_temp.id('manual')), 0::bigint, 'and wakes nothing');

-- ============================================================================================================
-- Total: bookkeeping never fails an upload
-- ============================================================================================================
insert into public.conversations (conversation_id, user_id, processing_status)
values (pg_temp.id('broken'), :'owner', 'generating');
-- A rule the recording will break (standing in for any unexpected database error).
alter table public.conversations add constraint t050_small_raw check (raw_response_size is null or raw_response_size < 100000);
select lives_ok(
  format($$insert into storage.objects (bucket_id, name, metadata)
           values ('conversation-files', 'raw/%s/%s.json', '{"size": 500000}')$$, :'owner', pg_temp.id('broken')),
  'an upload succeeds even when recording it in conversations fails');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('broken')),
  'generating', 'the row is left as it was');
select is((select kind from public.raw_orphans where conversation_id = pg_temp.id('broken')),
  'object_unmarked', 'raw_orphans shows it for the sweeper and the monitor');
alter table public.conversations drop constraint t050_small_raw;

-- Without Vault secrets the row is still recorded; the wake-up is simply not sent (the sweeper covers it).
delete from vault.secrets where name = 'project_url';
select lives_ok(
  format($$insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/%s/%s.json')$$,
         :'owner', pg_temp.id('nosecret')),
  'an upload succeeds without the Vault secrets');
select is((select processing_status::text from public.conversations where conversation_id = pg_temp.id('nosecret')),
  'raw_stored', 'the row is recorded');
select is(pg_temp.wakeups_for(pg_temp.id('nosecret')), 0::bigint, 'and no request is queued');

-- ============================================================================================================
-- Privileges
-- ============================================================================================================
select tests.authenticate_as('t050_owner');
select throws_ok(
  format($$select private.record_raw_object('conversation-files', 'raw/%s/%s.json', null, 1)$$,
         :'owner', gen_random_uuid()),
  '42501', null, 'a user cannot call record_raw_object()');
select tests.as_owner();

select * from finish();
rollback;
