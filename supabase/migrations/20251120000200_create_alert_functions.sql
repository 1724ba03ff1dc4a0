-- Alert state transitions, one guarded statement each. storage-health-monitor decides what to do in
-- TypeScript (shared/monitor/evaluate_rules.ts: pure, given the numbers, thresholds and open alerts) and
-- applies it with these functions inside one transaction that holds the monitor lock
-- (private.lock_health_monitor), so two overlapping runs evaluate one after the other.
--
-- Every function returns what it changed; no row means the state had already moved (a no-op, not an error).
-- Time comes in as p_now so tests can replay a timeline.

-- Serializes monitor runs for the rest of the caller's transaction (works through a transaction pooler).
create or replace function private.lock_health_monitor() returns void
language sql
volatile
set search_path = ''
as $$
  select pg_advisory_xact_lock(hashtextextended('storage-health-monitor', 0))
$$;

-- ok → firing: a new incident with a "fired" notice. Returns null when the rule already has an open alert.
create or replace function private.open_alert(
  p_rule text,
  p_severity text,
  p_value numeric,
  p_threshold numeric,
  p_details jsonb,
  p_now timestamptz default now()
) returns bigint
language sql
volatile
set search_path = ''
as $$
  insert into public.alerts as a
    (rule, severity, fired_at, value, peak_value, threshold, details, last_evaluated_at,
     notice, notice_seq, notice_value, notice_queued_at)
  values
    (p_rule, p_severity, p_now, p_value, p_value, p_threshold, coalesce(p_details, '{}'::jsonb), p_now,
     'fired', 1, p_value, p_now)
  on conflict (rule) where resolved_at is null do nothing
  returning a.id
$$;

-- Still open, no notice: record the value, the peak and whether the rule is clearing. An undelivered notice
-- carries the latest value, so a message that goes out late is not stale.
create or replace function private.track_alert(
  p_id bigint,
  p_value numeric,
  p_threshold numeric,
  p_details jsonb,
  p_clearing boolean,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.alerts
     set value = p_value,
         peak_value = greatest(peak_value, coalesce(p_value, peak_value)),
         threshold = p_threshold,
         details = coalesce(p_details, details),
         last_evaluated_at = p_now,
         clearing_since = case when p_clearing then coalesce(clearing_since, p_now) end,
         notice_value = case when delivered_at is null and p_value is not null then p_value else notice_value end
   where id = p_id and resolved_at is null;
  return found;
end
$$;

-- Firing and worse than last notified: queue a "worse" notice (replacing any undelivered one).
create or replace function private.escalate_alert(
  p_id bigint,
  p_value numeric,
  p_threshold numeric,
  p_details jsonb,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.alerts
     set value = p_value,
         peak_value = greatest(peak_value, p_value),
         threshold = p_threshold,
         details = coalesce(p_details, details),
         last_evaluated_at = p_now,
         clearing_since = null,
         notice = 'worse',
         notice_seq = notice_seq + 1,
         notice_value = p_value,
         notice_queued_at = p_now,
         delivered_at = null,
         delivery_error = null,
         delivery_attempts = 0,
         delivery_claimed_until = null
   where id = p_id and resolved_at is null;
  return found;
end
$$;

-- firing → resolved: close the incident and queue a "resolved" notice (replacing any undelivered one).
create or replace function private.resolve_alert(
  p_id bigint,
  p_value numeric,
  p_details jsonb,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.alerts
     set resolved_at = greatest(p_now, fired_at),
         value = coalesce(p_value, value),
         details = coalesce(p_details, details),
         last_evaluated_at = p_now,
         clearing_since = null,
         notice = 'resolved',
         notice_seq = notice_seq + 1,
         notice_value = coalesce(p_value, value, notice_value),
         notice_queued_at = p_now,
         delivered_at = null,
         delivery_error = null,
         delivery_attempts = 0,
         delivery_claimed_until = null
   where id = p_id and resolved_at is null;
  return found;
end
$$;

-- Leases up to p_limit undelivered notices younger than p_max_age, oldest first (pgmq.read's shape: pick
-- with SKIP LOCKED, push the lease, return the rows). A lease that expires (the run died) is picked again.
create or replace function private.claim_alert_notices(
  p_limit integer,
  p_lease interval,
  p_max_age interval,
  p_now timestamptz default now()
) returns setof public.alerts
language sql
volatile
set search_path = ''
as $$
  update public.alerts a
     set delivery_claimed_until = p_now + p_lease
   where a.id in (
           select id from public.alerts
            where delivered_at is null
              and notice_queued_at > p_now - p_max_age
              and (delivery_claimed_until is null or delivery_claimed_until < p_now)
            order by notice_queued_at, id
            limit greatest(p_limit, 0)
              for update skip locked)
  returning a.*
$$;

-- Records the outcome for the notice that was claimed (p_notice_seq). False when a newer notice replaced it
-- meanwhile: that one stays undelivered and is sent next run.
create or replace function private.record_alert_delivery(
  p_id bigint,
  p_notice_seq integer,
  p_delivered boolean,
  p_error text,
  p_attempted boolean,
  p_now timestamptz default now()
) returns boolean
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.alerts
     set delivered_at = case when p_delivered then p_now end,
         delivery_error = case when p_delivered then null else left(p_error, 1000) end,
         delivery_attempts = delivery_attempts + case when p_attempted then 1 else 0 end,
         last_attempt_at = case when p_attempted then p_now else last_attempt_at end,
         notices_delivered = notices_delivered + case when p_delivered then 1 else 0 end,
         delivery_claimed_until = null
   where id = p_id and notice_seq = p_notice_seq and delivered_at is null;
  return found;
end
$$;

revoke all on function private.lock_health_monitor() from public;
revoke all on function private.open_alert(text, text, numeric, numeric, jsonb, timestamptz) from public;
revoke all on function private.track_alert(bigint, numeric, numeric, jsonb, boolean, timestamptz) from public;
revoke all on function private.escalate_alert(bigint, numeric, numeric, jsonb, timestamptz) from public;
revoke all on function private.resolve_alert(bigint, numeric, jsonb, timestamptz) from public;
revoke all on function private.claim_alert_notices(integer, interval, interval, timestamptz) from public;
revoke all on function private.record_alert_delivery(bigint, integer, boolean, text, boolean, timestamptz)
  from public;

grant usage on schema private to service_role;
grant execute on function private.lock_health_monitor() to service_role;
grant execute on function private.open_alert(text, text, numeric, numeric, jsonb, timestamptz) to service_role;
grant execute on function private.track_alert(bigint, numeric, numeric, jsonb, boolean, timestamptz)
  to service_role;
grant execute on function private.escalate_alert(bigint, numeric, numeric, jsonb, timestamptz) to service_role;
grant execute on function private.resolve_alert(bigint, numeric, jsonb, timestamptz) to service_role;
grant execute on function private.claim_alert_notices(integer, interval, interval, timestamptz) to service_role;
grant execute on function private.record_alert_delivery(bigint, integer, boolean, text, boolean, timestamptz)
  to service_role;
