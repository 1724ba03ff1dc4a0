-- Schedules the sweeper's two jobs (20251119000300_create_conversation_sweeper.sql): sweep-conversations every
-- minute (pg_cron 1.4, the version on Debian 12 and on older Supabase images, has minute schedules only;
-- '30 seconds' needs 1.5) and reconcile-raw-objects every ten minutes. Scheduling the same job name again
-- replaces it, so re-running this file is harmless.
--
-- Guarded: pg_cron can only live in the database named by cron.database_name ('postgres' on Supabase and in the
-- local stack). Where it cannot be created (a scratch database), nothing is scheduled and a notice says so; the
-- sweeper is still callable by hand.
do $$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     and exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    begin
      -- Supabase's documented form (pg_cron keeps its tables in schema cron whatever the schema given here).
      create extension if not exists pg_cron with schema pg_catalog;
    exception when others then
      raise notice 'pg_cron not available in this database (%): the sweeper is not scheduled', sqlerrm;
    end;
  end if;
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('sweep-conversations', '* * * * *', 'select private.sweep_conversations()');
    perform cron.schedule('reconcile-raw-objects', '*/10 * * * *', 'select private.reconcile_raw_objects()');
  else
    raise notice 'schema cron does not exist: the sweeper jobs are not scheduled';
  end if;
end
$$;
