-- Restores private.health_overview as 20251120000100_create_health_functions.sql defined it (without
-- 'outcomes' and the per-method hourly columns; the monitor reads both as optional).
create or replace function private.health_overview(p_now timestamptz default now()) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'raw_storage_health', (select to_jsonb(h) from public.raw_storage_health h),
    'status_counts', coalesce((
      select jsonb_object_agg(s.processing_status, s.n)
        from (select c.processing_status, count(*) as n
                from public.conversations c
               where c.created_at > p_now - interval '24 hours'
               group by 1) s), '{}'::jsonb),
    'hourly', coalesce((
      select jsonb_agg(jsonb_build_object(
               'hour', to_char(p.hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'total', p.total, 'direct', p.direct, 'failed', p.failed,
               'mb_per_hour', g.mb_per_hour) order by p.hour desc)
        from (select * from public.parse_success_hourly order by hour desc limit 6) p
        left join public.storage_growth_hourly g on g.hour = p.hour), '[]'::jsonb)
  )
$$;
