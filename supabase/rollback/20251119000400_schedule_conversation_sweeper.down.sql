-- Unschedules the sweeper's jobs (keeps pg_cron: other jobs may use it).
do $$
begin
  if to_regclass('cron.job') is not null then
    if exists (select 1 from cron.job where jobname = 'sweep-conversations') then
      perform cron.unschedule('sweep-conversations');
    end if;
    if exists (select 1 from cron.job where jobname = 'reconcile-raw-objects') then
      perform cron.unschedule('reconcile-raw-objects');
    end if;
  end if;
end
$$;
