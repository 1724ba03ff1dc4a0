-- Closes rows left in `generating` by a function worker that ended before recording Claude's answer (killed past
-- its wall clock, a deploy, a crash). Without this they stay "stuck" forever: the monitor's stuck-generating rule
-- fires but nothing resolves it.
--
-- A row qualifies only when it has no raw object and no answer recorded (raw_sha256 is null), and was last
-- touched longer ago than any generate call can live (the paid plans' 400 s wall clock; the default 30 minutes
-- leaves a wide margin). Should the raw object still arrive later, the storage trigger moves the row on from
-- generation_failed as it does for any raw upload (20251119000000), so marking it loses nothing.
create or replace function private.fail_abandoned_generations(
  p_now timestamptz default now(),
  p_after interval default interval '30 minutes',
  p_batch integer default 500
) returns integer
language plpgsql
volatile
security definer
-- definer: pg_cron runs it as the job owner; service_role may call it to force the check.
set search_path = ''
as $$
declare
  _n integer;
begin
  with abandoned as (
    select c.id from public.conversations c
     where c.processing_status = 'generating'
       and c.updated_at < p_now - p_after
       and c.raw_sha256 is null
       and not exists (select 1 from storage.objects o
                        where o.bucket_id = 'conversation-files'
                          and o.name = 'raw/' || c.user_id::text || '/' || c.conversation_id::text || '.json')
     order by c.updated_at
     limit p_batch
     for update skip locked
  )
  update public.conversations c
     set processing_status = 'generation_failed',
         generation_error = coalesce(c.generation_error, '')
           || 'abandoned: no Claude answer was recorded within ' || p_after::text
           || ' (the function worker ended before it finished)'
    from abandoned a
   where c.id = a.id and c.processing_status = 'generating';
  get diagnostics _n = row_count;
  return _n;
end
$$;

revoke all on function private.fail_abandoned_generations(timestamptz, interval, integer) from public;
grant execute on function private.fail_abandoned_generations(timestamptz, interval, integer) to service_role;

do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule('fail-abandoned-generations', '*/5 * * * *',
                          'select private.fail_abandoned_generations()');
  else
    raise notice 'schema cron does not exist: fail-abandoned-generations is not scheduled';
  end if;
end
$$;
