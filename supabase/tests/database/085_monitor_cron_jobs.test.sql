-- The monitor and retention run themselves: pg_cron jobs with the right schedules, each calling its function
-- through private.invoke_edge_function (pg_net + Vault). pg_cron ticks once a minute at best, so the jobs' SQL is
-- run here directly instead of waiting for a tick.
begin;
select plan(8);

select is((select schedule from cron.job where jobname = 'storage-health-monitor'), '*/5 * * * *',
  'storage-health-monitor runs every 5 minutes');
select is((select schedule from cron.job where jobname = 'raw-retention'), '30 3 * * *',
  'raw-retention runs daily at 03:30 UTC');
select ok((select active from cron.job where jobname = 'storage-health-monitor'), 'the monitor job is active');
select ok((select active from cron.job where jobname = 'raw-retention'), 'the retention job is active');
select matches((select command from cron.job where jobname = 'storage-health-monitor'),
  'private\.invoke_edge_function\(''storage-health-monitor''', 'the monitor job posts to its function');
select matches((select command from cron.job where jobname = 'raw-retention'),
  'private\.invoke_edge_function\(''raw-retention''', 'the retention job posts to its function');

-- With the Vault secrets set, the job's own command queues one pg_net request to the function with the key.
delete from vault.secrets where name in ('project_url', 'service_role_key');
do $$
begin
  perform vault.create_secret('http://127.0.0.1:1', 'project_url');
  perform vault.create_secret('test-service-key-0123456789', 'service_role_key');
end
$$;
do $$
begin
  execute (select command from cron.job where jobname = 'storage-health-monitor');
end
$$;
select results_eq(
  $$select url, headers ->> 'Authorization', convert_from(body, 'UTF8')::jsonb
      from net.http_request_queue order by id desc limit 1$$,
  $$values ('http://127.0.0.1:1/functions/v1/storage-health-monitor'::text, 'Bearer test-service-key-0123456789'::text,
            '{}'::jsonb)$$,
  'running the monitor job queues a POST to /functions/v1/storage-health-monitor with the service key');
do $$
begin
  execute (select command from cron.job where jobname = 'raw-retention');
end
$$;
select is((select url from net.http_request_queue order by id desc limit 1),
  'http://127.0.0.1:1/functions/v1/raw-retention',
  'running the retention job queues a POST to /functions/v1/raw-retention');

select * from finish();
rollback;
