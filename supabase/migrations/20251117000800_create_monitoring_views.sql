-- Monitoring views: the checklist's raw_storage_health (its Step 7 SQL, unchanged) and the views behind its
-- post-deployment queries. storage-health-monitor and the runbook read these; TypeScript does not re-aggregate.
--
-- security_invoker: a view runs with the privileges and RLS of whoever queries it. The service role (the
-- monitor) sees every row; a signed-in user sees figures for their own conversations only. Without it a view
-- runs as its owner (postgres), which bypasses RLS: every user would see everyone's totals.
-- Caution: running the checklist's Step 7 statement (CREATE OR REPLACE VIEW without WITH) against this database
-- resets security_invoker (docs/DATABASE.md, "Views"); this migration is the definition to apply.

-- Every view filters a created_at window (the last 24 hours). This index turns those filters into index range
-- scans, so the views cost the rows in the window, not the table (docs/DATABASE.md: EXPLAIN at 1M rows).
create index if not exists idx_conversations_created_at on public.conversations (created_at);
-- The review rows of a window (parse_error_patterns, the checklist's Step 6 error-rate query, the monitor).
-- Without it the planner walks idx_conversations_requires_review, i.e. every review row ever, which grows
-- without bound; this one holds only review rows and is read by time.
create index if not exists idx_conversations_review_created_at
  on public.conversations (created_at)
  where requires_manual_review;

-- The Step 7 view, as the checklist defines it (same columns, same meaning): the last 24 hours of conversations
-- whose raw response was stored.
create or replace view public.raw_storage_health with (security_invoker = true) as
SELECT 
  COUNT(*) as total_conversations,
  COUNT(CASE WHEN requires_manual_review THEN 1 END) as manual_review_count,
  COUNT(CASE WHEN parse_method_used = 'direct' THEN 1 END) as direct_parse_count,
  COUNT(CASE WHEN parse_method_used = 'jsonrepair' THEN 1 END) as jsonrepair_count,
  SUM(raw_response_size) / 1024 / 1024 as raw_storage_mb,
  AVG(parse_attempts) as avg_parse_attempts
FROM conversations
WHERE created_at > NOW() - INTERVAL '24 hours'
  AND raw_response_path IS NOT NULL;

comment on view public.raw_storage_health is
  'Checklist Step 7: last 24 h of conversations with a stored raw response (totals, review queue, parse methods, '
  'raw MB, mean parse attempts)';

-- Post-deployment check 1 ("Parse Success Rate"), per hour: its columns hour, total, direct, failed keep their
-- meaning; the other methods, the pending rows and a failure rate are added for the monitor (alert: parse
-- failure rate > 10 % in the last hour). Newest hour first when ordered by hour desc.
create or replace view public.parse_success_hourly with (security_invoker = true) as
select
  date_trunc('hour', created_at) as hour,
  count(*) as total,
  count(*) filter (where parse_method_used = 'direct') as direct,
  count(*) filter (where requires_manual_review) as failed,
  count(*) filter (where parse_method_used = 'extracted') as extracted,
  count(*) filter (where parse_method_used = 'jsonrepair') as jsonrepair,
  count(*) filter (where parse_method_used = 'manual') as manual,
  count(*) filter (where parse_method_used is null and not requires_manual_review) as pending,
  round(100.0 * count(*) filter (where requires_manual_review) / count(*), 2) as failure_rate_pct
from public.conversations
where created_at > now() - interval '24 hours'
  and raw_response_path is not null
group by date_trunc('hour', created_at);

comment on view public.parse_success_hourly is
  'Post-deployment check 1 per hour (last 24 h, raw stored): total, direct, failed (= in manual review), other '
  'methods, pending (not parsed yet), failure_rate_pct = 100 * failed / total';

-- Post-deployment check 2 ("Storage Growth"), per hour. Alert: raw storage growth > 1 GB/day (sum mb_per_hour).
create or replace view public.storage_growth_hourly with (security_invoker = true) as
select
  date_trunc('hour', created_at) as hour,
  count(*) as conversations,
  sum(raw_response_size) / 1024 / 1024 as mb_per_hour
from public.conversations
where created_at > now() - interval '24 hours'
  and raw_response_path is not null
group by date_trunc('hour', created_at);

comment on view public.storage_growth_hourly is
  'Post-deployment check 2 per hour (last 24 h, raw stored): conversations and raw MB (MiB) stored';

-- Post-deployment check 3 ("Error Patterns"): why conversations of the last 24 hours went to review.
create or replace view public.parse_error_patterns with (security_invoker = true) as
select
  parse_error_message,
  count(*) as count
from public.conversations
where requires_manual_review = true
  and created_at > now() - interval '24 hours'
group by parse_error_message;

comment on view public.parse_error_patterns is
  'Post-deployment check 3 (last 24 h): parse_error_message of conversations in manual review, with counts';

revoke all on public.raw_storage_health, public.parse_success_hourly, public.storage_growth_hourly,
  public.parse_error_patterns from public, anon;
grant select on public.raw_storage_health, public.parse_success_hourly, public.storage_growth_hourly,
  public.parse_error_patterns to service_role, authenticated;
