-- Undo 20251202000000_write_raw_response_url.sql: raw_response_url is no longer derived from the path. The
-- values already written stay (they are still the authenticated object URLs of their paths).
drop trigger if exists on_raw_path_written on public.conversations;
drop function if exists private.set_raw_response_url();
drop function if exists private.raw_object_url(text);
comment on column public.conversations.raw_response_url is
  'Deprecated: never written by this project (URLs are signed on demand from raw_response_path). Kept because '
  'the seed migration defines it';
