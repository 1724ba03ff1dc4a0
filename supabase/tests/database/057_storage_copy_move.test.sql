-- Copy and move on the real Storage server (storage-api 1.11.2) and what they do to raw/: a copy INSERTs the new
-- row as service_role, a move UPDATEs the row's name. The project never copies or moves (its code only
-- uploads), so the local emulation offers neither route; this file pins what the trigger does if an operator
-- does it on Supabase, with the row written the way storage-api writes it. Also storage's own BEFORE UPDATE
-- trigger (update_objects_updated_at), which the bootstrap installs like the real schema.
begin;
set local client_min_messages = error;
select plan(5);

select tests.create_supabase_user('t057_owner') as owner \gset
select gen_random_uuid() as copied \gset
select gen_random_uuid() as moved \gset

-- A copy to a raw/ name: INSERT as service_role (auth.uid() null), metadata copied.
set local role service_role;
insert into storage.objects (bucket_id, name, owner_id, version, metadata)
values ('conversation-files', 'raw/' || :'owner' || '/' || :'copied' || '.json', null, gen_random_uuid()::text,
        '{"size": 42, "mimetype": "application/json"}');
reset role;
select is((select processing_status::text from public.conversations where conversation_id = :'copied'),
  'raw_stored', 'a copy into raw/ fires the trigger as an INSERT: the conversation is recorded and queued');
select is((select raw_response_size from public.conversations where conversation_id = :'copied'), 42::bigint,
  'with the copied object''s size');

-- A move into raw/: UPDATE of name.
insert into storage.objects (bucket_id, name, version, metadata)
values ('conversation-files', 'incoming/' || :'moved' || '.json', gen_random_uuid()::text, '{"size": 7}');
update storage.objects set updated_at = '2000-01-01', last_accessed_at = now()
 where bucket_id = 'conversation-files' and name = 'incoming/' || :'moved' || '.json';
select isnt((select updated_at from storage.objects
              where bucket_id = 'conversation-files' and name = 'incoming/' || :'moved' || '.json'),
  '2000-01-01'::timestamptz, 'update_objects_updated_at moves updated_at on every update, as on Supabase');
set local role service_role;
update storage.objects set name = 'raw/' || :'owner' || '/' || :'moved' || '.json'
 where bucket_id = 'conversation-files' and name = 'incoming/' || :'moved' || '.json';
reset role;
select is((select processing_status::text from public.conversations where conversation_id = :'moved'),
  'raw_stored', 'a move into raw/ fires the trigger as an UPDATE with a new name: recorded too');
select is((select raw_response_path from public.conversations where conversation_id = :'moved'),
  'raw/' || :'owner' || '/' || :'moved' || '.json', 'at the moved name');

select * from finish();
rollback;
