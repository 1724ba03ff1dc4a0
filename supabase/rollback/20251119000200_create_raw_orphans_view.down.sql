drop view if exists public.raw_orphans;
