-- pg_net: every call from the database to a function goes through it (the storage trigger's wake-up, the
-- sweeper, the monitor and retention cron jobs; 20251118000000_create_edge_function_invoker.sql). Recent
-- Supabase images enable it; older projects do not, and without it every one of those calls fails and no alert
-- can fire. Supabase's documented form: `create extension pg_net with schema extensions` (its functions live in
-- schema net whatever the schema given).
--
-- Guarded like pg_cron: where pg_net is not offered (a plain PostgreSQL server; the local stack, whose schema
-- net is a stand-in served by the gateway), nothing is created and a notice says so. `deno task verify` reports
-- the result either way ("extension pg_net").
do $$
begin
  if exists (select 1 from pg_extension where extname = 'pg_net') then
    return;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    begin
      create extension if not exists pg_net with schema extensions;
    exception when others then
      raise notice 'pg_net could not be enabled (%): enable it in Dashboard → Database → Extensions', sqlerrm;
    end;
  elsif to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is not null then
    raise notice 'pg_net is not offered by this server; schema net already answers (a stand-in)';
  else
    raise notice 'pg_net is not offered by this server: functions cannot be called from the database';
  end if;
end
$$;
