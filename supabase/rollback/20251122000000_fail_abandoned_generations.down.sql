do $$
begin
  -- Nested: cron.job must not be named in a statement that runs where pg_cron is absent (a scratch database).
  if to_regclass('cron.job') is not null then
    if exists (select 1 from cron.job where jobname = 'fail-abandoned-generations') then
      perform cron.unschedule('fail-abandoned-generations');
    end if;
  end if;
end
$$;
drop function if exists private.fail_abandoned_generations(timestamptz, interval, integer);
