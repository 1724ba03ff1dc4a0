-- Zero loss at the worker boundary (docs/GENERATE.md "Raw first: the order of writes", docs/FAULTS.md "Windows").
--
-- 1. Write-ahead. generate-conversation's first act after Claude's last byte is ONE statement that records the
--    answer's metadata on the row and writes the verbatim bytes to raw_response_spool (kind 'write_ahead', due
--    only after a lease that outlives the worker's remaining work). The Storage upload comes after; once it is
--    confirmed the function deletes the write-ahead row. A worker killed anywhere after that statement leaves
--    the bytes in the spool: when the lease ends the sweeper's flush uploads them and the storage trigger marks
--    the row raw_stored, as for any spooled response.
-- 2. Stream checkpoints. While a long answer streams, the function rewrites the same spool row (kind
--    'checkpoint') with the partial Message every N seconds or N KB; the row's raw_sha256 and `truncated` follow
--    it. A worker killed mid-stream leaves the text so far, which the flush stores and the parse reads as
--    truncated (review). The final write-ahead replaces the checkpoint in place; a completed generation leaves
--    only its raw object.
-- 3. Honest ends. private.fail_abandoned_generations now closes every generating row that no durable write
--    holds (no spool row, no raw object) with generation_error_code 'worker_lost' (formerly it skipped rows with
--    a recorded raw_sha256: the answers lost by the old order of writes stayed `generating` for good), and the
--    monitor's new rule answers_lost fires on any such row.

alter table public.raw_response_spool
  add column if not exists kind text not null default 'spooled',
  add column if not exists updated_at timestamptz not null default now();

do $$
begin
  if not exists (select 1 from pg_constraint where conname = 'raw_response_spool_kind_known') then
    alter table public.raw_response_spool add constraint raw_response_spool_kind_known
      check (kind in ('spooled', 'write_ahead', 'checkpoint'));
  end if;
end
$$;

comment on column public.raw_response_spool.kind is
  'spooled: Storage refused the upload (due now); write_ahead: the complete answer, written before the upload '
  '(due when the lease ends: the worker is gone); checkpoint: the partial answer of a stream still running '
  '(due when the lease ends)';
comment on column public.raw_response_spool.updated_at is 'Last write-ahead or checkpoint of these bytes';

alter table public.conversations add column if not exists generation_error_code text;

do $$
begin
  if not exists (select 1 from pg_constraint where conname = 'conversations_generation_error_code_format') then
    alter table public.conversations add constraint conversations_generation_error_code_format
      check (generation_error_code ~ '^[a-z][a-z0-9_]*$');
  end if;
end
$$;

comment on column public.conversations.generation_error_code is
  'Stable code of a generation_failed row when the database closed it: worker_lost = the function worker ended '
  'before any durable write of Claude''s answer (whatever Claude had sent is lost)';

-- The abandoned-generation check, honest about what was lost. A generating row qualifies when no durable write
-- holds any of its answer — no spool row (write-ahead, checkpoint or spooled) and no raw object — and it was
-- created longer ago than any generate call can live. A row with raw_sha256 but neither spool row nor object
-- is the old order of writes losing a received answer (the sha256 is kept as evidence).
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
       and not exists (select 1 from public.raw_response_spool s where s.conversation_id = c.conversation_id)
       and not exists (select 1 from storage.objects o
                        where o.bucket_id = 'conversation-files'
                          and o.name = 'raw/' || c.user_id::text || '/' || c.conversation_id::text || '.json')
     order by c.updated_at
     limit p_batch
     for update of c skip locked
  )
  update public.conversations c
     set processing_status = 'generation_failed',
         generation_error_code = 'worker_lost',
         generation_error = coalesce(c.generation_error || '; ', '')
           || 'worker_lost: the function worker ended before Claude''s answer was durably written'
           || case when c.raw_sha256 is not null
                   then ' (an answer with sha256 ' || c.raw_sha256 || ' was received and lost)'
                   else ' (whatever Claude had sent by then is lost)' end
           || '; closed ' || p_after::text || ' after the last change'
    from abandoned a
   where c.id = a.id and c.processing_status = 'generating';
  get diagnostics _n = row_count;
  if _n > 0 then
    raise warning 'fail_abandoned_generations: % generations closed as worker_lost (monitor rule answers_lost)', _n;
  end if;
  return _n;
end
$$;

revoke all on function private.fail_abandoned_generations(timestamptz, interval, integer) from public;
grant execute on function private.fail_abandoned_generations(timestamptz, interval, integer) to service_role;

insert into public.alert_thresholds (rule, threshold, unit, window_minutes, min_sample, severity, description)
values ('answers_lost', 0, 'count', 1440, 0, 'critical',
        'generations closed as worker_lost in the window: the worker ended before the answer was durably written')
on conflict (rule) do nothing;

-- private.health_rule_values, redefined from 20251120000100 with two changes: the answers_lost rule, and
-- spooled_raw_waiting counting only rows that wait (spooled, or a write-ahead/checkpoint past its lease).
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
  -- Write-ahead rows and checkpoints of live generations are not waiting: only spooled rows, and write-ahead
  -- rows or checkpoints whose lease has ended (their worker is gone: the sweeper's flush stores them).
  select count(*), coalesce(sum(s.raw_size), 0), min(s.created_at), max(s.upload_attempts)
    into _total, _bytes, _oldest, _attempts
    from public.raw_response_spool s
   where s.kind = 'spooled' or s.next_attempt_at <= p_now;
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

  -- Answers lost at the worker boundary (20251203000000): generations closed as generation_failed with
  -- generation_error_code 'worker_lost' in the window (default 24 hours). Any one is a paid answer (or its
  -- start) that no durable write holds: the rule's threshold is 0.
  rule := 'answers_lost';
  _window := private.rule_window(rule, 1440);
  select count(*), min(c.created_at) into _total, _oldest
    from public.conversations c
   where c.created_at > p_now - _window
     and c.processing_status = 'generation_failed'
     and c.generation_error_code = 'worker_lost';
  value := _total;
  sample := null;
  details := jsonb_strip_nulls(jsonb_build_object(
    'oldest_minutes', private.minutes_since(_oldest, p_now),
    'conversation_ids', case when _total > 0 then (
      select to_jsonb(array_agg(x.conversation_id)) from (
        select c.conversation_id from public.conversations c
         where c.created_at > p_now - _window
           and c.processing_status = 'generation_failed'
           and c.generation_error_code = 'worker_lost'
         order by c.created_at desc limit 5) x) end));
  unavailable_reason := null;
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
