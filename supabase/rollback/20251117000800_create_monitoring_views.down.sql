-- Down: 20251117000800_create_monitoring_views.sql. Drops the views and the created_at index; no data is lost.
drop view if exists public.parse_error_patterns;
drop view if exists public.storage_growth_hourly;
drop view if exists public.parse_success_hourly;
drop view if exists public.raw_storage_health;
drop index if exists public.idx_conversations_review_created_at;
drop index if exists public.idx_conversations_created_at;
