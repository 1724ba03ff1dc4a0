-- Down: 20251117000700_create_conversation_files_bucket.sql. Drops the policies and the upload helper. The bucket
-- row is deleted only when the bucket holds no object: objects are stored bytes (raw responses), and removing
-- their rows here would orphan the bytes. A bucket with objects stays, with a notice; empty it through the
-- Storage API first if it must go.
drop policy if exists "conversation-files: users upload new raw responses" on storage.objects;
drop policy if exists "conversation-files: users read own conversations" on storage.objects;
drop policy if exists "conversation-files: users read own raw responses" on storage.objects;
drop function if exists private.can_upload_raw_object(text);

do $$
begin
  if exists (select 1 from storage.objects where bucket_id = 'conversation-files') then
    raise notice 'bucket conversation-files still holds objects: kept';
  else
    -- storage.buckets refuses direct deletes unless the Storage API's own flag is set for the transaction.
    perform set_config('storage.allow_delete_query', 'true', true);
    delete from storage.buckets where id = 'conversation-files';
  end if;
end
$$;
