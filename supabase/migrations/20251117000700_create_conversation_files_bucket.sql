-- Bucket conversation-files and its storage.objects policies.
--
-- Layout (DESIGN §3): raw/{user_id}/{conversation_id}.json is Claude's verbatim response, write-once;
-- {user_id}/{conversation_id}/conversation.json is the parsed conversation. The bucket is private (links are
-- signed on demand), 10 MB per object, JSON only. Upsert: an existing bucket (created by hand from the checklist's
-- Step 3, public or without limits) is brought to these settings.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('conversation-files', 'conversation-files', false, 10485760, array['application/json'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- Policies for users (role authenticated). The service role bypasses RLS and does everything else. anon has no
-- policy: it sees and writes nothing. Storage API operations map to SQL as: download/list/sign = SELECT,
-- upload = INSERT, upsert = INSERT + SELECT + UPDATE, remove = SELECT + DELETE.
--
-- Decision (docs/DATABASE.md, "User uploads to raw/"): users may upload a raw response of their own, as the
-- checklist's Step 3 says, but only as a new conversation. Write-once for everyone: no UPDATE or DELETE policy
-- exists, so a user can neither overwrite (upsert needs UPDATE) nor remove any object of this bucket.

-- Whether the current user may create this raw object. True only for raw/{own uid}/{uuid}.json (lowercase, the
-- spelling our code builds) where no conversation with that id exists yet, for anyone. Stricter than "not owned
-- by another user": an upload to the id of one's own existing conversation would race the pipeline's own
-- write-once upload (which would then fail with a duplicate) and replace Claude's response with the user's bytes.
-- A new id becomes a new conversation of the uploader (the storage trigger creates the row from the path), so a
-- user upload can only ever start the parse of a conversation that user owns.
create or replace function private.can_upload_raw_object(p_name text) returns boolean
language sql
stable
security definer
-- definer: must see every conversation id (RLS hides other users' rows from the caller) to refuse taken ids.
set search_path = ''
as $$
  select coalesce(
    (select auth.uid()) is not null
    and p_name ~ '^raw/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json$'
    and split_part(p_name, '/', 2) = (select auth.uid())::text
    and not exists (
      select 1 from public.conversations c
       where c.conversation_id = substring(split_part(p_name, '/', 3) from 1 for 36)::uuid
    ),
    false)
$$;

revoke all on function private.can_upload_raw_object(text) from public;
grant execute on function private.can_upload_raw_object(text) to authenticated, service_role;

drop policy if exists "conversation-files: users read own raw responses" on storage.objects;
create policy "conversation-files: users read own raw responses" on storage.objects
  for select to authenticated
  using (
    bucket_id = 'conversation-files'
    and (storage.foldername(name))[1] = 'raw'
    and (storage.foldername(name))[2] = (select auth.uid())::text
  );

drop policy if exists "conversation-files: users read own conversations" on storage.objects;
create policy "conversation-files: users read own conversations" on storage.objects
  for select to authenticated
  using (
    bucket_id = 'conversation-files'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

drop policy if exists "conversation-files: users upload new raw responses" on storage.objects;
create policy "conversation-files: users upload new raw responses" on storage.objects
  for insert to authenticated
  with check (
    bucket_id = 'conversation-files'
    and (storage.foldername(name))[1] = 'raw'
    and (storage.foldername(name))[2] = (select auth.uid())::text
    and private.can_upload_raw_object(name)
  );
