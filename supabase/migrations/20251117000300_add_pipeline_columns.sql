-- The pipeline's own columns on public.conversations (DESIGN §3): what Claude returned, the parse claim and
-- retry schedule, idempotency, raw retention and review bookkeeping, plus the indexes of the work queue.
-- Writers: generate-conversation (generation columns), the parse claim functions (claimed_until,
-- next_attempt_at), the review functions (reviewed_*, dismissed_*), retention (raw_deleted_at).

alter table public.conversations
  -- What Claude returned (set once the response is in hand, before the raw upload).
  add column if not exists raw_sha256 text,
  add column if not exists stop_reason text,
  add column if not exists model text,
  add column if not exists input_tokens integer,
  add column if not exists output_tokens integer,
  add column if not exists cost_usd numeric(12, 6),
  add column if not exists truncated boolean not null default false,
  add column if not exists generation_error text,
  add column if not exists generation_attempts integer not null default 0,
  -- The parse.
  add column if not exists parser_version text,
  add column if not exists claimed_until timestamptz,
  add column if not exists next_attempt_at timestamptz,
  -- Idempotent requests: the same key from the same user returns the first row; a different body under the
  -- same key is a 409 (request_hash differs).
  add column if not exists idempotency_key text,
  add column if not exists request_hash text,
  -- Raw retention: the object was deleted on purpose; raw_response_path stays as the record of where it was.
  add column if not exists raw_deleted_at timestamptz,
  -- Review.
  add column if not exists reviewed_by uuid references auth.users (id) on delete set null,
  add column if not exists reviewed_at timestamptz,
  add column if not exists review_notes text,
  add column if not exists dismissed_at timestamptz,
  add column if not exists dismissed_reason text;

-- The seed made these two nullable with defaults. A null parse_attempts turns `parse_attempts + 1` into null
-- (a claim that counts nothing) and a null flag hides a row from the review queue, so both become NOT NULL.
-- Types and defaults stay the seed's; old code that omits them still gets 0 and false.
update public.conversations set parse_attempts = 0 where parse_attempts is null;
update public.conversations set requires_manual_review = false where requires_manual_review is null;
alter table public.conversations
  alter column parse_attempts set not null,
  alter column requires_manual_review set not null;

alter table public.conversations
  drop constraint if exists conversations_parse_method_used_check,
  add constraint conversations_parse_method_used_check
    check (parse_method_used is null or parse_method_used in ('direct', 'extracted', 'jsonrepair', 'manual')),
  drop constraint if exists conversations_user_id_idempotency_key_key,
  add constraint conversations_user_id_idempotency_key_key unique (user_id, idempotency_key),
  drop constraint if exists conversations_raw_sha256_format,
  add constraint conversations_raw_sha256_format check (raw_sha256 ~ '^[0-9a-f]{64}$'),
  drop constraint if exists conversations_request_hash_format,
  add constraint conversations_request_hash_format check (request_hash ~ '^[0-9a-f]{64}$'),
  drop constraint if exists conversations_idempotency_key_length,
  add constraint conversations_idempotency_key_length check (length(idempotency_key) between 1 and 255),
  drop constraint if exists conversations_counters_nonnegative,
  add constraint conversations_counters_nonnegative check (
    parse_attempts >= 0 and generation_attempts >= 0 and input_tokens >= 0 and output_tokens >= 0
    and cost_usd >= 0 and raw_response_size >= 0
  );

comment on column public.conversations.raw_sha256 is
  'Lowercase hex sha256 of the raw response bytes, recorded at generation; the parse step verifies the stored '
  'object against it';
comment on column public.conversations.stop_reason is 'Claude''s stop_reason (end_turn, max_tokens, refusal, ...)';
comment on column public.conversations.model is 'The model that produced the raw response';
comment on column public.conversations.cost_usd is 'Estimated cost of the generation in USD (token prices)';
comment on column public.conversations.truncated is
  'True when the response was cut (max_tokens, or a repair had to close open structures): never a complete '
  'conversation';
comment on column public.conversations.generation_error is 'Why generation failed (status generation_failed)';
comment on column public.conversations.generation_attempts is 'Claude calls made for this conversation';
comment on column public.conversations.parser_version is 'Version of the parser that produced the current result';
comment on column public.conversations.claimed_until is
  'Lease of the parse worker holding the row (status parsing); an expired lease may be reclaimed';
comment on column public.conversations.next_attempt_at is
  'Earliest time the sweeper may (re)dispatch this row: backoff after an infrastructure failure';
comment on column public.conversations.idempotency_key is
  'Client-supplied Idempotency-Key, unique per user: a retried request returns the first row';
comment on column public.conversations.request_hash is
  'Lowercase hex sha256 of the canonical request body: the same key with another body is a conflict (409)';
comment on column public.conversations.raw_deleted_at is
  'When the raw object was deleted by retention; raw_response_path keeps where it was';
comment on column public.conversations.dismissed_at is 'When a reviewer dismissed the item from the review queue';

-- The work queue. Rows in a terminal state (completed, parse_failed, generation_failed) are not in these
-- indexes, so they stay small however large the table grows.
create index if not exists idx_conversations_work_queue
  on public.conversations (processing_status, next_attempt_at)
  where processing_status in ('generating', 'raw_stored', 'parsing', 'raw_spooled');
create index if not exists idx_conversations_claims
  on public.conversations (claimed_until)
  where processing_status = 'parsing';
-- A user's own list, newest first.
create index if not exists idx_conversations_user_created
  on public.conversations (user_id, created_at desc);
