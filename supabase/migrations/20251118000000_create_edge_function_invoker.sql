-- How the database calls Edge Functions (storage trigger wake-ups, the sweeper, the monitor's cron jobs).
--
-- Supabase's documented pattern (guides/functions/schedule-functions): the project URL and a service key live
-- in Vault, and pg_net posts to {project_url}/functions/v1/{name} with that key. Two secrets are read:
--   project_url       e.g. https://<ref>.supabase.co (locally http://127.0.0.1:54321)
--   service_role_key  the legacy service_role JWT or an sb_secret_ key
-- Set them with `deno task secrets:sync` (docs/RUNBOOK.md). When either is missing, nothing is sent and the
-- call returns null: the sweeper re-dispatches later, so a missing secret delays work but never loses it.

create schema if not exists private;
revoke all on schema private from public;

create or replace function private.vault_secret(p_name text) returns text
language sql
stable
security definer
-- definer: vault.decrypted_secrets is readable only by privileged roles; callers get one named value.
set search_path = ''
as $$
  select decrypted_secret from vault.decrypted_secrets where name = p_name order by created_at desc limit 1
$$;

-- Posts `p_body` to the named function and returns pg_net's request id (null when not configured).
-- Fire-and-forget: the request is sent after the caller commits and is never retried (pg_net semantics).
create or replace function private.invoke_edge_function(
  p_function text,
  p_body jsonb default '{}'::jsonb,
  p_timeout_ms integer default 5000
) returns bigint
language plpgsql
volatile
security definer
-- definer: reads the service key from Vault, which the calling role (a trigger's writer, cron) cannot.
set search_path = ''
as $$
declare
  _url text := private.vault_secret('project_url');
  _key text := private.vault_secret('service_role_key');
begin
  if _url is null or _key is null or p_function !~ '^[a-z0-9][a-z0-9_-]*$' then
    return null;
  end if;
  return net.http_post(
    url := rtrim(_url, '/') || '/functions/v1/' || p_function,
    body := coalesce(p_body, '{}'::jsonb),
    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || _key),
    timeout_milliseconds := p_timeout_ms
  );
end
$$;

revoke all on function private.vault_secret(text) from public;
revoke all on function private.invoke_edge_function(text, jsonb, integer) from public;
grant usage on schema private to service_role;
grant execute on function private.invoke_edge_function(text, jsonb, integer) to service_role;
