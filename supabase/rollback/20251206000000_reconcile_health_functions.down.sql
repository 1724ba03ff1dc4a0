-- Back to the state before 20251206000000_reconcile_health_functions: private.health_rule_values as
-- 20251204000200 left it, private.health_overview as 20251205000100 left it (each without the others' changes,
-- as the migrations in timestamp order had left them).

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
  -- Per source (20251204000200): users' uploads are left out — one account's garbage uploads must not fire the
  -- operators' queue alert for everyone (nor hide a real incident in it). They have their own per-user rule,
  -- upload_review_queue_per_user. details.uploaded_in_review says how many were left out.
  rule := 'manual_review_queue';
  select count(*) filter (where c.source <> 'uploaded'),
         min(coalesce(c.last_parse_attempt_at, c.updated_at)) filter (where c.source <> 'uploaded'),
         count(*) filter (where c.source = 'uploaded')
    into _total, _oldest, _attempts
    from public.conversations c
   where c.requires_manual_review;
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object(
    'oldest_item_minutes', private.minutes_since(_oldest, p_now),
    'uploaded_in_review', _attempts));
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
     and c.raw_response_path is not null
     -- Per source: the parse failure rate is the model's (prompt/schema issues); users' uploads are not.
     and c.source <> 'uploaded';
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
                 and c.source <> 'uploaded'
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
   where c.created_at > p_now - _window
     -- Per source: an upload never called Claude, so it is neither a failure nor a success of Claude's.
     and c.source <> 'uploaded';
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
