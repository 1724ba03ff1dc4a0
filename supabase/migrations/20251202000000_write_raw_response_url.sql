-- raw_response_url: the seed's column, now written with the path (docs/DATABASE.md, "raw_response_url").
--
-- The checklist's Step 5 expects it NOT NULL. A stored signed URL expires and a public one would expose the raw
-- response, so the value is the authenticated object URL:
--   {project_url}/storage/v1/object/authenticated/conversation-files/{raw_response_path}
-- It never expires and grants nothing by itself: a GET needs a JWT that RLS lets read the object (the owner's
-- or the service key), exactly like a download by path. A short-lived link for a browser is still signed on
-- demand (`createSignedUrl`, or the review queue's `raw_url`).
--
-- Derived, never written by callers: a BEFORE trigger sets it from raw_response_path on every insert and on
-- every update that names either column, so the two cannot disagree. {project_url} is the Vault secret the
-- functions are woken with (`deno task secrets:sync`, Step 4); when it is not set yet the URL stays null and is
-- filled by the next write of the path or by running this migration's backfill statement again.

create or replace function private.raw_object_url(p_path text) returns text
language sql
stable
security definer
-- definer: reads project_url from Vault (private.vault_secret), which the writing role cannot.
set search_path = ''
as $$
  select rtrim(private.vault_secret('project_url'), '/')
         || '/storage/v1/object/authenticated/conversation-files/' || p_path
   where p_path is not null
$$;

comment on function private.raw_object_url(text) is
  'The authenticated Storage URL of a raw object path ({project_url}/storage/v1/object/authenticated/'
  'conversation-files/{path}); null without a path or before project_url is in Vault';

create or replace function private.set_raw_response_url() returns trigger
language plpgsql
security definer
-- definer: calls private.raw_object_url, whose Vault read the writer (service_role, a trigger) may not do.
set search_path = ''
as $$
begin
  new.raw_response_url := private.raw_object_url(new.raw_response_path);
  return new;
end
$$;

revoke all on function private.raw_object_url(text) from public;
revoke all on function private.set_raw_response_url() from public;

create or replace trigger on_raw_path_written
  before insert or update of raw_response_path, raw_response_url on public.conversations
  for each row execute function private.set_raw_response_url();

comment on column public.conversations.raw_response_url is
  'Authenticated Storage URL of raw_response_path ({project_url}/storage/v1/object/authenticated/'
  'conversation-files/{path}); set by trigger on_raw_path_written, never a signed or public URL';

-- Rows written before this migration.
update public.conversations
   set raw_response_url = private.raw_object_url(raw_response_path)
 where raw_response_path is not null and raw_response_url is null;
