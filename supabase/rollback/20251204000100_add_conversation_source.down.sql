-- Removes provenance: the trigger, its function, the index and the column. CAUTION: conversations.source is
-- lost; keep `select conversation_id, source from conversations` first if it matters.
drop trigger if exists set_conversation_source on public.conversations;
drop function if exists private.set_conversation_source();
drop index if exists public.idx_conversations_review_by_source;
alter table public.conversations drop column if exists source;
