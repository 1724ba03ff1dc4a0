-- The monitor's two tables: the thresholds operators tune with SQL, and one row per alert incident.
--
-- Read and written by storage-health-monitor (shared/monitor/, shared/adapters/postgres_monitor_store.ts)
-- through the functions of 20251120000200_create_alert_functions.sql; docs/MONITORING.md explains each column.
-- Both tables are internal: RLS on with no policies, nothing for anon/authenticated, all for service_role.

-- ---------------------------------------------------------------------------------------------------------
-- alert_thresholds: one row per rule. The rule keys are the code's (shared/monitor/rules.ts); a row with an
-- unknown key is reported by the monitor and otherwise ignored. Every comparison is `value > threshold`.
-- ---------------------------------------------------------------------------------------------------------
create table if not exists public.alert_thresholds (
  rule text primary key check (rule ~ '^[a-z][a-z0-9_]*$'),
  threshold numeric not null check (threshold >= 0),
  unit text not null check (unit in ('count', 'percent', 'megabytes')),
  -- Rate rules: the look-back window. Stuck rules: how old a row must be to count as stuck. Null: not used.
  window_minutes integer check (window_minutes > 0),
  -- Rate rules fire only when at least this many items finished in the window (so 1 failure of 1 is not 100 %).
  min_sample integer not null default 0 check (min_sample >= 0),
  -- While an alert fires it is notified again only when the value reached (last notified value × worse_factor)
  -- and cooldown_minutes have passed since the last notice: no repeats for a steady value.
  cooldown_minutes integer not null default 30 check (cooldown_minutes >= 0),
  worse_factor numeric not null default 1.5 check (worse_factor > 1),
  -- Hysteresis: the alert resolves once the rule has been clear this long (the 2nd clear run at a 5-min cadence).
  clear_after_minutes integer not null default 4 check (clear_after_minutes >= 0),
  severity text not null default 'warning' check (severity in ('warning', 'critical')),
  enabled boolean not null default true,
  description text not null default '',
  updated_at timestamptz not null default now()
);

comment on table public.alert_thresholds is
  'Alert rules of storage-health-monitor; change thresholds with SQL (docs/MONITORING.md)';
comment on column public.alert_thresholds.threshold is 'The rule fires when its value is greater than this';

-- The checklist's three (Step 7, "Recommended Alerts"), then the pipeline's own. `do nothing` on conflict:
-- re-applying this file never undoes an operator's change.
insert into public.alert_thresholds
  (rule, threshold, unit, window_minutes, min_sample, severity, description)
values
  ('manual_review_queue', 10, 'count', null, 0, 'warning',
   'Checklist: requires_manual_review = true count > 10 (dismissing an item clears the flag)'),
  ('parse_failure_rate', 10, 'percent', 60, 5, 'warning',
   'Checklist: parse failure rate > 10% in the last hour'),
  ('raw_storage_growth', 1024, 'megabytes', null, 0, 'warning',
   'Checklist: raw storage growth > 1GB/day (raw_storage_health.raw_storage_mb, a 24-hour window)'),
  ('claude_failure_rate', 10, 'percent', 60, 5, 'critical',
   'generation_failed share of the conversations that finished generating in the window'),
  ('stuck_generating', 0, 'count', 10, 0, 'critical',
   'rows still generating window_minutes after they were created'),
  ('stuck_raw_stored', 0, 'count', 10, 0, 'critical',
   'rows still raw_stored window_minutes after their raw was stored'),
  ('stuck_parsing', 0, 'count', 10, 0, 'critical',
   'rows still parsing window_minutes after their raw was stored'),
  ('stuck_raw_spooled', 0, 'count', 10, 0, 'critical',
   'rows whose raw has waited in the spool longer than window_minutes'),
  ('spooled_raw_waiting', 0, 'count', null, 0, 'warning',
   'raw responses held only in raw_response_spool because Storage refused them'),
  ('raw_orphans', 0, 'count', null, 0, 'warning',
   'rows of the raw_orphans view: objects without rows, rows without objects, forged objects')
on conflict (rule) do nothing;

create or replace trigger on_row_updated before update on public.alert_thresholds
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------------------------
-- alerts: one row per incident (a rule firing until it resolves). The notice columns describe the latest
-- message owed to the webhook for this incident: "fired", then maybe "worse", then "resolved". A newer notice
-- replaces an undelivered older one (the channel gets the current state, not a backlog), and notice_seq makes
-- a late delivery result for a replaced notice a no-op.
-- ---------------------------------------------------------------------------------------------------------
create table if not exists public.alerts (
  id bigint generated always as identity primary key,
  rule text not null,
  severity text not null check (severity in ('warning', 'critical')),
  fired_at timestamptz not null,
  resolved_at timestamptz,
  -- the latest value seen while open (the value that cleared it, once resolved), the worst, and the threshold
  value numeric,
  peak_value numeric not null,
  threshold numeric not null,
  details jsonb not null default '{}'::jsonb,
  last_evaluated_at timestamptz not null,
  -- set while the rule is clear but the alert waits clear_after_minutes before resolving
  clearing_since timestamptz,
  notice text not null default 'fired' check (notice in ('fired', 'worse', 'resolved')),
  notice_seq integer not null default 1,
  notice_value numeric not null,
  notice_queued_at timestamptz not null,
  delivered_at timestamptz,
  -- why the latest notice is not delivered (webhook error, or "ALERT_WEBHOOK_URL is not set")
  delivery_error text,
  -- attempts for the latest notice (reset when a new notice is queued); 0 when nothing was sent
  delivery_attempts integer not null default 0,
  last_attempt_at timestamptz,
  -- a lease while one monitor run delivers the notice (pgmq-style), so overlapping runs do not send it twice
  delivery_claimed_until timestamptz,
  notices_delivered integer not null default 0,
  constraint alerts_resolved_after_fired check (resolved_at is null or resolved_at >= fired_at),
  constraint alerts_resolved_notice check ((resolved_at is null) = (notice <> 'resolved'))
);

comment on table public.alerts is
  'Alert incidents of storage-health-monitor with their webhook delivery state (docs/MONITORING.md)';

-- At most one open incident per rule: the guard that makes a duplicate "open" a no-op.
create unique index if not exists alerts_one_open_per_rule on public.alerts (rule) where resolved_at is null;
create index if not exists alerts_undelivered on public.alerts (notice_queued_at) where delivered_at is null;
create index if not exists alerts_rule_fired_at on public.alerts (rule, fired_at desc);

alter table public.alert_thresholds enable row level security;
alter table public.alerts enable row level security;

revoke all on public.alert_thresholds, public.alerts from public, anon, authenticated;
grant select, insert, update, delete on public.alert_thresholds, public.alerts to service_role;
