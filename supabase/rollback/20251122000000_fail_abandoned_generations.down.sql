do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron')
     and exists (select 1 from cron.job where jobname = 'fail-abandoned-generations') then
    perform cron.unschedule('fail-abandoned-generations');
  end if;
end
$$;
drop function if exists private.fail_abandoned_generations(timestamptz, interval, integer);
