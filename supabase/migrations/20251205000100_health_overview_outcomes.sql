-- private.health_overview (20251120000100) gains what `deno task health` needs to make its counts add up on one
-- screen: 'outcomes', the last 24 hours' conversations with a raw response split into exclusive parse outcomes
-- (direct, extracted, jsonrepair, manual, in_review, not_parsed — they sum to raw_storage_health's
-- total_conversations), and every method per hour in 'hourly' (parse_success_hourly's columns). The keys it
-- returned before are unchanged.
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
    'outcomes', coalesce((
      select jsonb_object_agg(o.outcome, o.n)
        from (select case when c.requires_manual_review then 'in_review'
                          when c.parse_method_used is not null then c.parse_method_used
                          else 'not_parsed' end as outcome,
                     count(*) as n
                from public.conversations c
               -- raw_storage_health's rows: its NOW() is the transaction's start, like p_now's default
               where c.created_at > now() - interval '24 hours'
                 and c.raw_response_path is not null
               group by 1) o), '{}'::jsonb),
    'hourly', coalesce((
      select jsonb_agg(jsonb_build_object(
               -- ISO 8601 in UTC whatever the session's TimeZone, so every reader prints the same hour
               'hour', to_char(p.hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'total', p.total,
               'direct', p.direct, 'failed', p.failed, 'extracted', p.extracted, 'jsonrepair', p.jsonrepair,
               'manual', p.manual, 'pending', p.pending, 'mb_per_hour', g.mb_per_hour) order by p.hour desc)
        from (select * from public.parse_success_hourly order by hour desc limit 6) p
        left join public.storage_growth_hourly g on g.hour = p.hour), '[]'::jsonb)
  )
$$;

revoke all on function private.health_overview(timestamptz) from public;
grant execute on function private.health_overview(timestamptz) to service_role;
