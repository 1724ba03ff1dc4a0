-- Back to 20251122000000 / 20251120000100: fail_abandoned_generations without the worker_lost code (and again
-- skipping rows with a recorded raw_sha256), health_rule_values without answers_lost, then the columns. Write-ahead
-- and checkpoint rows still in the spool stay there and are flushed like spooled rows (their bytes are Claude's).
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

create or replace function private.health_rule_values(p_now timestamptz default now())
returns table (rule text, value numeric, sample bigint, details jsonb, unavailable_reason text)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  _window interval;
  _failed bigint;
  _finished bigint;
  _oldest timestamptz;
  _mb numeric;
  _total bigint;
  _bytes numeric;
  _attempts integer;
  _error text;
  _stuck record;
  _status text;
begin
  -- Checklist alert 1: the manual review queue (requires_manual_review = true; dismissing clears the flag).
  rule := 'manual_review_queue';
  select count(*), min(coalesce(c.last_parse_attempt_at, c.updated_at)) into _total, _oldest
    from public.conversations c
   where c.requires_manual_review;
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object('oldest_item_minutes', private.minutes_since(_oldest, p_now)));
  unavailable_reason := null;
  return next;

  -- Checklist alert 2: parse failure rate in the window (default the last hour), over the conversations whose
  -- parse finished; rows still queued or parsing are not counted either way. A manual resolution was a failure.
  rule := 'parse_failure_rate';
  _window := private.rule_window(rule, 60);
  select count(*) filter (where c.processing_status = 'parse_failed' or c.parse_method_used = 'manual'),
         count(*) filter (where c.processing_status in ('completed', 'parse_failed'))
    into _failed, _finished
    from public.conversations c
   where c.created_at > p_now - _window
     and c.raw_response_path is not null;
  value := case when _finished > 0 then round(100.0 * _failed / _finished, 2) else 0 end;
  sample := _finished;
  details := jsonb_build_object(
    'failed', _failed,
    'finished', _finished,
    'top_errors', (
      select coalesce(jsonb_agg(jsonb_build_object('message', left(e.msg, 200), 'count', e.n) order by e.n desc), '[]')
        from (select coalesce(c.parse_error_message, '(no message)') as msg, count(*) as n
                from public.conversations c
               where c.created_at > p_now - _window
                 and c.raw_response_path is not null
                 and c.processing_status = 'parse_failed'
               group by 1
               order by 2 desc
               limit 3) e));
  return next;

  -- Checklist alert 3: raw storage growth per day, read from the checklist's own view (its 24-hour window).
  rule := 'raw_storage_growth';
  select h.raw_storage_mb, h.total_conversations into _mb, _total from public.raw_storage_health h;
  value := round(coalesce(_mb, 0), 2);
  sample := null;
  details := jsonb_build_object('conversations_24h', coalesce(_total, 0));
  return next;

  -- Claude failures: generation_failed among the conversations of the window that finished generating.
  rule := 'claude_failure_rate';
  _window := private.rule_window(rule, 60);
  select count(*) filter (where c.processing_status = 'generation_failed'),
         count(*) filter (where c.processing_status <> 'generating')
    into _failed, _finished
    from public.conversations c
   where c.created_at > p_now - _window;
  value := case when _finished > 0 then round(100.0 * _failed / _finished, 2) else 0 end;
  sample := _finished;
  details := jsonb_build_object(
    'failed', _failed,
    'finished', _finished,
    'top_errors', (
      select coalesce(jsonb_agg(jsonb_build_object('message', left(e.msg, 200), 'count', e.n) order by e.n desc), '[]')
        from (select coalesce(c.generation_error, '(no message)') as msg, count(*) as n
                from public.conversations c
               where c.created_at > p_now - _window
                 and c.processing_status = 'generation_failed'
               group by 1
               order by 2 desc
               limit 3) e));
  return next;

  -- Rows stuck in a non-terminal state longer than the rule's window (default 10 minutes).
  foreach _status in array array['generating', 'raw_stored', 'parsing', 'raw_spooled'] loop
    rule := 'stuck_' || _status;
    select * into _stuck from private.stuck_conversations(_status, private.rule_window(rule, 10), p_now);
    value := _stuck.stuck;
    sample := null;
    details := jsonb_strip_nulls(jsonb_build_object(
      'oldest_minutes', private.minutes_since(_stuck.oldest_since, p_now),
      'conversation_ids', case when _stuck.stuck > 0 then to_jsonb(_stuck.sample_ids) end));
    return next;
  end loop;

  -- Raw responses held only in the database because Storage refused them (any age).
  rule := 'spooled_raw_waiting';
  select count(*), coalesce(sum(s.raw_size), 0), min(s.created_at), max(s.upload_attempts)
    into _total, _bytes, _oldest, _attempts
    from public.raw_response_spool s;
  select s.last_error into _error
    from public.raw_response_spool s
   where s.last_error is not null
   order by s.created_at desc
   limit 1;
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object(
    'bytes', case when _total > 0 then _bytes end,
    'oldest_minutes', private.minutes_since(_oldest, p_now),
    'max_upload_attempts', _attempts,
    'last_error', left(_error, 300)));
  return next;

  -- Objects without rows and rows without objects: the raw_orphans view (20251119000200). Read dynamically so
  -- a database without the view reports the rule as unavailable instead of failing the whole monitor.
  rule := 'raw_orphans';
  sample := null;
  if to_regclass('public.raw_orphans') is null then
    value := null;
    details := '{}'::jsonb;
    unavailable_reason := 'view public.raw_orphans is not installed';
  else
    execute $q$
      select coalesce(sum(n), 0),
             coalesce(jsonb_object_agg(kind || ':' || detail, n), '{}'::jsonb)
        from (select o.kind, o.detail, count(*) as n from public.raw_orphans o group by 1, 2) k
    $q$ into value, details;
    unavailable_reason := null;
  end if;
  return next;
end
$$;


revoke all on function private.health_rule_values(timestamptz) from public;
grant execute on function private.health_rule_values(timestamptz) to service_role;

delete from public.alerts where rule = 'answers_lost';
delete from public.alert_thresholds where rule = 'answers_lost';

alter table public.conversations drop constraint if exists conversations_generation_error_code_format;
alter table public.conversations drop column if exists generation_error_code;
alter table public.raw_response_spool drop constraint if exists raw_response_spool_kind_known;
alter table public.raw_response_spool drop column if exists kind;
alter table public.raw_response_spool drop column if exists updated_at;
