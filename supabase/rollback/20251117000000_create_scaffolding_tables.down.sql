-- Down: 20251117000000_create_scaffolding_tables.sql. CAUTION: drops the scaffolding rows (the seed restores the
-- shipped ones).
drop table if exists public.prompt_templates;
drop table if exists public.training_topics;
drop table if exists public.emotional_arcs;
drop table if exists public.personas;
