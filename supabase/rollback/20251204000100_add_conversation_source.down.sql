-- Removes provenance: raw_storage_health back to the checklist's six columns (dropped and created again, as a
-- view cannot lose columns in place; its grants are restored), then the trigger, its function, the index and the
-- column. CAUTION: conversations.source is lost; keep `select conversation_id, source from conversations` first
-- if it matters.
drop view if exists public.raw_storage_health;
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
revoke all on public.raw_storage_health from public, anon;
grant select on public.raw_storage_health to service_role, authenticated;

drop trigger if exists set_conversation_source on public.conversations;
drop function if exists private.set_conversation_source();
drop index if exists public.idx_conversations_review_by_source;
alter table public.conversations drop column if exists source;
