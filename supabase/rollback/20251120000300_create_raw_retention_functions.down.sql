-- Removes the raw retention functions and their indexes. raw_deleted_at values stay (the column belongs to
-- 20251117000300_add_pipeline_columns.sql): they record objects that are really gone.
drop function if exists private.raw_deletions_unfinished(timestamptz, timestamptz, integer);
drop function if exists private.unmark_raw_deleted(uuid[], timestamptz);
drop function if exists private.mark_raw_deleted(timestamptz, integer, timestamptz);
drop function if exists private.raw_retention_totals(timestamptz);
drop function if exists private.raw_retention_candidates(timestamptz, integer);
drop index if exists public.idx_conversations_raw_deleted_at;
drop index if exists public.idx_conversations_raw_retention;
