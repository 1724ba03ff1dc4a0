-- Rolls back 20251121000000_create_review_functions.sql. Data stays: rows resolved or dismissed keep their
-- reviewed_*/dismissed_* values and attempts-log rows (the columns belong to 20251117000300).
drop index if exists public.idx_conversations_dismissed;
drop index if exists public.idx_conversations_review_queue_user;
drop index if exists public.idx_conversations_review_queue;
drop function if exists private.dismiss_conversation(uuid, uuid, uuid, text, timestamptz);
drop function if exists private.resolve_conversation(uuid, uuid, uuid, text, text, bigint, integer, text, text,
  timestamptz);
drop function if exists private.requeue_for_review(uuid, uuid, timestamptz);
drop function if exists private.review_refusal(uuid, uuid);
comment on column public.conversations.reviewed_by is null;
comment on column public.conversations.review_notes is null;
comment on column public.conversations.dismissed_reason is null;
