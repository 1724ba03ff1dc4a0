-- The seed's migration (Prompt 2, "Raw Response Storage (Zero Data Loss)"): nine columns that track the raw
-- Claude response and its parse, and two partial indexes for the review queue and retried parses.
--
-- Additive and idempotent, as the deployment checklist promises: every statement can run again (ADD COLUMN IF
-- NOT EXISTS, CREATE INDEX IF NOT EXISTS, COMMENT), and code that never mentions these columns keeps working
-- (all are nullable or defaulted). Types are upstream's, unchanged; later hardening lives in later migrations.
-- Rollback: supabase/rollback/20251117000200_add_raw_response_storage_columns.down.sql (the checklist's Option 2).

alter table conversations
  add column if not exists raw_response_url text,
  add column if not exists raw_response_path text,
  add column if not exists raw_response_size bigint,
  add column if not exists raw_stored_at timestamptz;

alter table conversations
  add column if not exists parse_attempts integer default 0,
  add column if not exists last_parse_attempt_at timestamptz,
  add column if not exists parse_error_message text,
  add column if not exists parse_method_used varchar(50);

alter table conversations
  add column if not exists requires_manual_review boolean default false;

comment on column conversations.raw_response_url is
  'Deprecated: never written by this project (URLs are signed on demand from raw_response_path). Kept because '
  'the seed migration defines it';
comment on column conversations.raw_response_path is
  'Storage path of the verbatim Claude response: raw/{user_id}/{conversation_id}.json in conversation-files';
comment on column conversations.raw_response_size is 'Size of the stored raw response, in bytes';
comment on column conversations.raw_stored_at is 'When the raw response was stored (before any parse)';
comment on column conversations.parse_attempts is 'How many parse attempts were made (claims count)';
comment on column conversations.last_parse_attempt_at is 'When the latest parse attempt started';
comment on column conversations.parse_error_message is 'Why the latest parse failed (for review and debugging)';
comment on column conversations.parse_method_used is
  'How the conversation was obtained: direct, extracted, jsonrepair or manual';
comment on column conversations.requires_manual_review is
  'True while the conversation waits in the manual review queue (its parse failed or was partial)';

create index if not exists idx_conversations_requires_review
  on conversations (requires_manual_review)
  where requires_manual_review = true;

create index if not exists idx_conversations_parse_attempts
  on conversations (parse_attempts)
  where parse_attempts > 0;
