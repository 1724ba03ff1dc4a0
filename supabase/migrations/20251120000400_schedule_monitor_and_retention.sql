-- Schedules storage-health-monitor every 5 minutes and raw-retention once a day (03:30 UTC, off-peak), both
-- through private.invoke_edge_function (pg_net with the project URL and service key from Vault; nothing is sent
-- while those secrets are missing). pg_cron 1.4 minute syntax; re-scheduling a job name replaces it, so
-- re-running this file is harmless. raw-retention is scheduled unconditionally and does nothing until
-- RAW_RETENTION_DAYS is set in the function's environment (the opt-in lives with the function, not here).
--
-- pg_net's timeout only bounds how long pg_net waits for the answer (the functions finish their run either way):
-- 60 s for the monitor, 150 s (the hosted idle limit) for retention's bounded batches.
--
-- Guarded like the sweeper's schedule: where pg_cron cannot be created (a scratch database), nothing is
-- scheduled and a notice says so; the functions can still be called by hand.
do $$
begin
  if not exists (select 1 from pg_extension where extname = 'pg_cron')
     and exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    begin
      create extension if not exists pg_cron with schema pg_catalog;
    exception when others then
      raise notice 'pg_cron not available in this database (%): monitor and retention are not scheduled', sqlerrm;
    end;
  end if;
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule(
      'storage-health-monitor',
      '*/5 * * * *',
      $job$select private.invoke_edge_function('storage-health-monitor', '{}'::jsonb, 60000)$job$
    );
    perform cron.schedule(
      'raw-retention',
      '30 3 * * *',
      $job$select private.invoke_edge_function('raw-retention', '{}'::jsonb, 150000)$job$
    );
  else
    raise notice 'schema cron does not exist: monitor and retention are not scheduled';
  end if;
end
$$;
