-- Down: 20251117000100_create_conversations_table.sql. CAUTION: drops every conversation row (take a backup:
-- checklist Step 1). Storage objects are not touched.
drop table if exists public.conversations;
