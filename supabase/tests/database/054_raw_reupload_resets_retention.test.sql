-- A raw object uploaded again after raw retention deleted the old one clears raw_deleted_at, so the row is
-- eligible for retention again (private.record_raw_object, 20251119000000).
begin;
set local client_min_messages = error;
select plan(2);

select tests.create_supabase_user('t054_owner') as owner \gset
select gen_random_uuid() as cid \gset
insert into public.conversations (conversation_id, user_id, processing_status, raw_deleted_at)
values (:'cid', :'owner', 'completed', now() - interval '1 day');

insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || :'cid' || '.json', '{"size": 10}');

select is((select raw_deleted_at from public.conversations where conversation_id = :'cid'), null,
  'the new upload clears raw_deleted_at');
select is((select processing_status::text from public.conversations where conversation_id = :'cid'), 'raw_stored',
  'and the row is queued for a parse of the new bytes');

select * from finish();
rollback;
