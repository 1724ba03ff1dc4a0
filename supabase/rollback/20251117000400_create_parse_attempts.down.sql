-- Down: 20251117000400_create_parse_attempts.sql. CAUTION: drops the parse attempts log (history only; the latest
-- outcome stays on public.conversations).
drop table if exists public.conversation_parse_attempts;
-- Shared with raw_response_spool, which 20251117000500 created after this file (its down runs first).
drop function if exists private.check_conversation_owner();
