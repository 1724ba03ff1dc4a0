-- raw_response_url is derived from raw_response_path (trigger on_raw_path_written, 20251202000000): the
-- authenticated object URL under the Vault secret project_url, written with the path, never set by a caller.
begin;
set local client_min_messages = error;
select plan(7);

select tests.create_supabase_user('t056_owner') as owner \gset
select gen_random_uuid() as cid \gset
select gen_random_uuid() as cid2 \gset

-- ===== before project_url is in Vault
delete from vault.secrets where name = 'project_url';
insert into public.conversations (conversation_id, user_id, processing_status)
values (:'cid2', :'owner', 'generating');
update public.conversations set raw_response_path = 'raw/' || :'owner' || '/' || :'cid2' || '.json'
 where conversation_id = :'cid2';
select is((select raw_response_url from public.conversations where conversation_id = :'cid2'), null,
  'without project_url in Vault the URL stays null (the path is still written)');

-- ===== with project_url (secrets:sync)
select vault.create_secret('https://abcdefghijklmnopqrst.supabase.co/', 'project_url');

insert into public.conversations (conversation_id, user_id, processing_status)
values (:'cid', :'owner', 'generating');
select is((select raw_response_url from public.conversations where conversation_id = :'cid'), null,
  'a row without a raw path has no URL');

-- The storage trigger records the upload: the path and the URL are written in the same statement.
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || :'cid' || '.json', '{"size": 10}');
select is((select raw_response_url from public.conversations where conversation_id = :'cid'),
  'https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/authenticated/conversation-files/raw/'
    || :'owner' || '/' || :'cid' || '.json',
  'the raw upload writes the authenticated object URL (no trailing slash doubled)');
select is((select raw_response_url from public.conversations where conversation_id = :'cid'),
  (select private.raw_object_url(raw_response_path) from public.conversations where conversation_id = :'cid'),
  'URL and path agree');

update public.conversations set raw_response_url = 'https://evil.example/x' where conversation_id = :'cid';
select is((select raw_response_url from public.conversations where conversation_id = :'cid'),
  'https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/authenticated/conversation-files/raw/'
    || :'owner' || '/' || :'cid' || '.json',
  'a caller cannot point the URL elsewhere: it is derived from the path');

update public.conversations set raw_response_path = null where conversation_id = :'cid';
select is((select raw_response_url from public.conversations where conversation_id = :'cid'), null,
  'clearing the path clears the URL');

update public.conversations set raw_response_path = raw_response_path where conversation_id = :'cid2';
select alike((select raw_response_url from public.conversations where conversation_id = :'cid2'),
  'https://abcdefghijklmnopqrst.supabase.co/storage/v1/object/authenticated/conversation-files/raw/%',
  'a later write of the path fills a URL that was missing');

select * from finish();
rollback;
