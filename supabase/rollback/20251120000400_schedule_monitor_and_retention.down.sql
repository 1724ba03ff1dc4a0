-- Unschedules the monitor and retention jobs (keeps pg_cron: other jobs use it).
do $$
begin
  if to_regclass('cron.job') is not null then
    if exists (select 1 from cron.job where jobname = 'storage-health-monitor') then
      perform cron.unschedule('storage-health-monitor');
    end if;
    if exists (select 1 from cron.job where jobname = 'raw-retention') then
      perform cron.unschedule('raw-retention');
    end if;
  end if;
end
$$;
