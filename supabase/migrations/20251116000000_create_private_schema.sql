-- Schema `private`: internal helpers (trigger functions, policy helpers, pipeline functions) that must never be
-- reachable through the Data API. Supabase exposes only the schemas listed in config.toml [api].schemas, and
-- `private` is not one of them; on top of that nothing in it is executable by PUBLIC unless granted per object.

create schema if not exists private;
revoke all on schema private from public;
-- service_role runs the pipeline's functions; authenticated needs USAGE only so that storage policies can call
-- the one helper granted to it (private.can_upload_raw_object). USAGE alone grants no function or table.
grant usage on schema private to service_role, authenticated;

-- PostgreSQL grants EXECUTE on every new function to PUBLIC. In this schema that default would make each
-- future helper callable by any role with USAGE, so it is switched off for functions the migration owner creates:
-- every helper here is granted explicitly, or not at all.
alter default privileges in schema private revoke execute on functions from public;

-- Keeps updated_at honest whatever the writer sends; used by every table that has the column.
create or replace function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

revoke all on function private.set_updated_at() from public;
