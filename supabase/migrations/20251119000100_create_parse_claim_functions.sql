-- The parse step's state transitions, one function each (called by shared/adapters/parse_queue_postgres.ts):
--   claim_conversation   raw_stored (or parsing with an expired lease), due → parsing; parse_attempts + 1
--   complete_parse       parsing → completed, + an attempts-log row           } one transaction each, guarded on
--   fail_parse           parsing → parse_failed (review), + an attempts-log row } status = 'parsing' and the
--   release_parse_claim  parsing → raw_stored with backoff (infrastructure)    } claim's attempt number
-- and the spool's: lease_spooled_raw, finish_spooled_raw, defer_spooled_raw.
--
-- Fencing token: the claim bumps parse_attempts and returns it; finishing calls pass it back. A worker whose lease
-- ran out and was taken over (or whose raw object was re-uploaded meanwhile) matches nothing and writes nothing.
-- A worker whose lease ran out but that nobody took over may still finish: its result is as good as any.
--
-- Infrastructure failures in a row (attempts-log rows with outcome 'error' after the last real outcome, including
-- attempts that vanished: a claim that expired is logged as 'claim_expired' when taken over) send the item to
-- review after p_max_infra_failures (default 10), so a poison message (one that crashes the worker every time,
-- or trips the CPU limit) cannot loop forever. Defaults are documented in docs/PARSE_FLOW.md.

-- How many attempts in a row ended without a result (error rows after the last parsed/partial/failed row).
create or replace function private.count_parse_infra_failures(p_conversation_id uuid) returns integer
language sql
stable
set search_path = ''
as $$
  select count(*)::integer
    from public.conversation_parse_attempts a
   where a.conversation_id = p_conversation_id
     and a.outcome = 'error'
     and a.id > coalesce((select max(b.id) from public.conversation_parse_attempts b
                           where b.conversation_id = p_conversation_id and b.outcome <> 'error'), 0)
$$;

-- Sends a row that keeps failing for infrastructure reasons to review. The caller holds the row lock.
create or replace function private.give_up_parse(
  p_conversation_id uuid,
  p_failures integer,
  p_last_error text
) returns void
language sql
volatile
set search_path = ''
as $$
  update public.conversations
     set processing_status = 'parse_failed',
         requires_manual_review = true,
         claimed_until = null,
         next_attempt_at = null,
         parse_error_message = 'parse_gave_up: ' || p_failures || ' attempts in a row ended without a result'
                               || ' (last: ' || coalesce(p_last_error, 'unknown') || ')'
   where conversation_id = p_conversation_id
$$;

-- Logs the attempt that held an expired claim (it crashed or hit a platform limit without writing anything) and
-- either makes the row claimable again or gives up. Returns 'reclaimed' or 'gave_up'. The caller holds the lock.
create or replace function private.expire_parse_claim(
  p_conversation_id uuid,
  p_now timestamptz,
  p_max_infra_failures integer
) returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  _c record;
  _n integer;
begin
  select c.user_id, c.parse_attempts, c.claimed_until, c.parser_version into _c
    from public.conversations c where c.conversation_id = p_conversation_id;
  insert into public.conversation_parse_attempts
    (conversation_id, user_id, attempt_number, parser_version, outcome, error_code, error_message, triggered_by,
     created_at)
  values (p_conversation_id, _c.user_id, coalesce(_c.parse_attempts, 0), coalesce(_c.parser_version, 'unknown'),
          'error', 'claim_expired',
          'The attempt ended without a result before its claim expired at ' || _c.claimed_until,
          null, p_now);
  _n := private.count_parse_infra_failures(p_conversation_id);
  if _n >= p_max_infra_failures then
    perform private.give_up_parse(p_conversation_id, _n, 'claim_expired');
    return 'gave_up';
  end if;
  update public.conversations
     set processing_status = 'raw_stored', claimed_until = null, next_attempt_at = p_now,
         parse_error_message = 'claim_expired: the attempt ended without a result'
   where conversation_id = p_conversation_id;
  return 'reclaimed';
end
$$;

-- The claim. Zero rows: someone else holds it, it is finished, not yet due, or unknown — a no-op, not an error.
-- Returns what the parse needs, with the scaffolding for the final file's input_parameters in the same call.
create or replace function private.claim_conversation(
  p_conversation_id uuid,
  p_now timestamptz default now(),
  p_lease interval default interval '60 seconds',
  p_max_infra_failures integer default 10
) returns table (
  conversation_id uuid,
  user_id uuid,
  attempt integer,
  raw_response_path text,
  raw_sha256 text,
  claimed_until timestamptz,
  persona_id uuid,
  persona_key text,
  persona_name text,
  persona_archetype text,
  emotional_arc_id uuid,
  emotional_arc_key text,
  emotional_arc_name text,
  training_topic_id uuid,
  training_topic_key text,
  training_topic_name text
)
language plpgsql
volatile
security definer
-- definer: the function connects as whatever SUPABASE_DB_URL names; the claim must not depend on its grants.
set search_path = ''
as $$
#variable_conflict use_column
declare
  _status text;
  _claimed_until timestamptz;
  _next timestamptz;
begin
  -- Lock first: five concurrent wake-ups queue here, and each re-reads the row the previous one left.
  select c.processing_status, c.claimed_until, c.next_attempt_at into _status, _claimed_until, _next
    from public.conversations c where c.conversation_id = p_conversation_id for update;
  if not found
     or not (_status = 'raw_stored' or (_status = 'parsing' and _claimed_until < p_now))
     or coalesce(_next, '-infinity') > p_now then
    return;
  end if;
  if _status = 'parsing' then
    if private.expire_parse_claim(p_conversation_id, p_now, p_max_infra_failures) = 'gave_up' then
      return;
    end if;
  end if;

  return query
  with claimed as (
    update public.conversations c
       set processing_status = 'parsing',
           claimed_until = p_now + p_lease,
           parse_attempts = coalesce(c.parse_attempts, 0) + 1,
           last_parse_attempt_at = p_now,
           next_attempt_at = null
     where c.conversation_id = p_conversation_id
       and c.processing_status = 'raw_stored'
    returning c.*
  )
  select c.conversation_id, c.user_id, c.parse_attempts, c.raw_response_path, c.raw_sha256, c.claimed_until,
         p.id, p.persona_key::text, p.name::text, p.archetype::text,
         a.id, a.arc_key::text, a.name::text,
         t.id, t.topic_key::text, t.name::text
    from claimed c
    left join public.personas p on p.id = c.persona_id
    left join public.emotional_arcs a on a.id = c.emotional_arc_id
    left join public.training_topics t on t.id = c.training_topic_id;
end
$$;

-- parsing → completed, with the attempts-log row, in one transaction. False when the claim was lost.
create or replace function private.complete_parse(
  p_conversation_id uuid,
  p_attempt integer,
  p_method text,
  p_parser_version text,
  p_turn_count integer,
  p_file_path text,
  p_file_size bigint,
  p_conversation_name text,
  p_raw_sha256 text default null,
  p_stop_reason text default null,
  p_fixes jsonb default '[]'::jsonb,
  p_duration_ms numeric default null,
  p_triggered_by text default null,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
security definer
-- definer: see claim_conversation.
set search_path = ''
as $$
declare
  _user uuid;
  _stop text;
begin
  update public.conversations c
     set processing_status = 'completed',
         parse_method_used = p_method,
         parser_version = p_parser_version,
         turn_count = p_turn_count,
         file_path = p_file_path,
         file_size = p_file_size,
         conversation_name = p_conversation_name,
         requires_manual_review = false,
         parse_error_message = null,
         claimed_until = null,
         next_attempt_at = null,
         -- Recorded here only when generation could not (database unreachable then, or an orphan).
         raw_sha256 = coalesce(c.raw_sha256, p_raw_sha256),
         stop_reason = coalesce(c.stop_reason, p_stop_reason)
   where c.conversation_id = p_conversation_id
     and c.processing_status = 'parsing'
     and c.parse_attempts = p_attempt
  returning c.user_id, c.stop_reason into _user, _stop;
  if not found then
    return false;
  end if;
  insert into public.conversation_parse_attempts
    (conversation_id, user_id, attempt_number, parser_version, method, outcome, fixes, stop_reason, truncated,
     duration_ms, triggered_by, created_at)
  values (p_conversation_id, _user, p_attempt, p_parser_version, p_method, 'parsed', coalesce(p_fixes, '[]'),
          coalesce(p_stop_reason, _stop), false, p_duration_ms, p_triggered_by, p_now);
  return true;
end
$$;

-- parsing → parse_failed with requires_manual_review, the attempts-log row keeping any partial result.
-- parse_error_message is '<code>: <message>' so the error-pattern report groups by cause.
create or replace function private.fail_parse(
  p_conversation_id uuid,
  p_attempt integer,
  p_outcome text,
  p_error_code text,
  p_error_message text,
  p_parser_version text,
  p_method text default null,
  p_truncated boolean default false,
  p_partial_conversation jsonb default null,
  p_raw_sha256 text default null,
  p_stop_reason text default null,
  p_fixes jsonb default '[]'::jsonb,
  p_duration_ms numeric default null,
  p_triggered_by text default null,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
security definer
-- definer: see claim_conversation.
set search_path = ''
as $$
declare
  _user uuid;
  _stop text;
begin
  if p_outcome not in ('partial', 'failed') then
    raise exception 'Cannot record parse outcome "%": use partial or failed', p_outcome
      using errcode = '22023', hint = 'completed results go through private.complete_parse';
  end if;
  update public.conversations c
     set processing_status = 'parse_failed',
         requires_manual_review = true,
         parse_error_message = p_error_code || ': ' || p_error_message,
         parse_method_used = null,
         parser_version = p_parser_version,
         truncated = c.truncated or coalesce(p_truncated, false),
         claimed_until = null,
         next_attempt_at = null,
         raw_sha256 = coalesce(c.raw_sha256, p_raw_sha256),
         stop_reason = coalesce(c.stop_reason, p_stop_reason)
   where c.conversation_id = p_conversation_id
     and c.processing_status = 'parsing'
     and c.parse_attempts = p_attempt
  returning c.user_id, c.stop_reason into _user, _stop;
  if not found then
    return false;
  end if;
  insert into public.conversation_parse_attempts
    (conversation_id, user_id, attempt_number, parser_version, method, outcome, error_code, error_message, fixes,
     stop_reason, truncated, partial_conversation, duration_ms, triggered_by, created_at)
  values (p_conversation_id, _user, p_attempt, p_parser_version, p_method, p_outcome, p_error_code,
          p_error_message, coalesce(p_fixes, '[]'), coalesce(p_stop_reason, _stop), coalesce(p_truncated, false),
          p_partial_conversation, p_duration_ms, p_triggered_by, p_now);
  return true;
end
$$;

-- Infrastructure error: parsing → raw_stored, due again after an exponential backoff with jitter (base · 2^(n-1),
-- capped, +0–20 % so a Storage outage does not bring every item back in the same second); after
-- p_max_infra_failures in a row → review. outcome: released | gave_up | lost_claim.
create or replace function private.release_parse_claim(
  p_conversation_id uuid,
  p_attempt integer,
  p_error_code text,
  p_error_message text,
  p_parser_version text,
  p_duration_ms numeric default null,
  p_triggered_by text default null,
  p_now timestamptz default now(),
  p_backoff_base interval default interval '10 seconds',
  p_backoff_cap interval default interval '15 minutes',
  p_max_infra_failures integer default 10
) returns table (outcome text, next_attempt_at timestamptz, consecutive_failures integer)
language plpgsql
volatile
security definer
-- definer: see claim_conversation.
set search_path = ''
as $$
#variable_conflict use_column
declare
  _user uuid;
  _n integer;
  _next timestamptz;
begin
  select c.user_id into _user from public.conversations c
   where c.conversation_id = p_conversation_id and c.processing_status = 'parsing'
     and c.parse_attempts = p_attempt
     for update;
  if not found then
    return query select 'lost_claim'::text, null::timestamptz, null::integer;
    return;
  end if;
  insert into public.conversation_parse_attempts
    (conversation_id, user_id, attempt_number, parser_version, outcome, error_code, error_message, duration_ms,
     triggered_by, created_at)
  values (p_conversation_id, _user, p_attempt, p_parser_version, 'error', p_error_code, left(p_error_message, 2000),
          p_duration_ms, p_triggered_by, p_now);
  _n := private.count_parse_infra_failures(p_conversation_id);
  if _n >= p_max_infra_failures then
    perform private.give_up_parse(p_conversation_id, _n, p_error_code);
    return query select 'gave_up'::text, null::timestamptz, _n;
    return;
  end if;
  _next := p_now + least(p_backoff_cap, p_backoff_base * power(2, least(_n - 1, 20))) * (1 + random() * 0.2);
  update public.conversations c
     set processing_status = 'raw_stored',
         claimed_until = null,
         next_attempt_at = _next,
         parse_error_message = p_error_code || ': ' || left(p_error_message, 500)
   where c.conversation_id = p_conversation_id;
  return query select 'released'::text, _next, _n;
end
$$;

-- The spool (raw responses that could not reach Storage at generation). A lease, like a claim, so two flushes
-- never upload the same row at once; upload_attempts counts leases.
create or replace function private.lease_spooled_raw(
  p_limit integer default 10,
  p_now timestamptz default now(),
  p_lease interval default interval '5 minutes'
) returns setof public.raw_response_spool
language sql
volatile
security definer
-- definer: raw_response_spool is service-role only; see claim_conversation.
set search_path = ''
as $$
  update public.raw_response_spool s
     set next_attempt_at = p_now + p_lease,
         upload_attempts = s.upload_attempts + 1
   where s.conversation_id in (select d.conversation_id from public.raw_response_spool d
                                where d.next_attempt_at <= p_now
                                order by d.next_attempt_at
                                limit p_limit
                                for update skip locked)
  returning s.*
$$;

-- The bytes are in Storage (the trigger has marked the row raw_stored): drop the spool row, if it still holds
-- those same bytes.
create or replace function private.finish_spooled_raw(p_conversation_id uuid, p_raw_sha256 text) returns boolean
language plpgsql
volatile
security definer
-- definer: see lease_spooled_raw.
set search_path = ''
as $$
begin
  delete from public.raw_response_spool s
   where s.conversation_id = p_conversation_id and s.raw_sha256 = p_raw_sha256;
  return found;
end
$$;

-- An upload failed: record why; due again after base · 2^(attempts-1), capped.
create or replace function private.defer_spooled_raw(
  p_conversation_id uuid,
  p_error text,
  p_now timestamptz default now(),
  p_backoff_base interval default interval '30 seconds',
  p_backoff_cap interval default interval '30 minutes'
) returns timestamptz
language sql
volatile
security definer
-- definer: see lease_spooled_raw.
set search_path = ''
as $$
  update public.raw_response_spool s
     set last_error = left(p_error, 2000),
         next_attempt_at = p_now + least(p_backoff_cap,
                                          p_backoff_base * power(2, least(greatest(s.upload_attempts - 1, 0), 20)))
   where s.conversation_id = p_conversation_id
  returning s.next_attempt_at
$$;

revoke all on function private.count_parse_infra_failures(uuid) from public;
revoke all on function private.give_up_parse(uuid, integer, text) from public;
revoke all on function private.expire_parse_claim(uuid, timestamptz, integer) from public;
revoke all on function private.claim_conversation(uuid, timestamptz, interval, integer) from public;
revoke all on function private.complete_parse(uuid, integer, text, text, integer, text, bigint, text, text, text,
  jsonb, numeric, text, timestamptz) from public;
revoke all on function private.fail_parse(uuid, integer, text, text, text, text, text, boolean, jsonb, text, text,
  jsonb, numeric, text, timestamptz) from public;
revoke all on function private.release_parse_claim(uuid, integer, text, text, text, numeric, text, timestamptz,
  interval, interval, integer) from public;
revoke all on function private.lease_spooled_raw(integer, timestamptz, interval) from public;
revoke all on function private.finish_spooled_raw(uuid, text) from public;
revoke all on function private.defer_spooled_raw(uuid, text, timestamptz, interval, interval) from public;

grant execute on function private.claim_conversation(uuid, timestamptz, interval, integer) to service_role;
grant execute on function private.complete_parse(uuid, integer, text, text, integer, text, bigint, text, text, text,
  jsonb, numeric, text, timestamptz) to service_role;
grant execute on function private.fail_parse(uuid, integer, text, text, text, text, text, boolean, jsonb, text, text,
  jsonb, numeric, text, timestamptz) to service_role;
grant execute on function private.release_parse_claim(uuid, integer, text, text, text, numeric, text, timestamptz,
  interval, interval, integer) to service_role;
grant execute on function private.lease_spooled_raw(integer, timestamptz, interval) to service_role;
grant execute on function private.finish_spooled_raw(uuid, text) to service_role;
grant execute on function private.defer_spooled_raw(uuid, text, timestamptz, interval, interval) to service_role;
