-- public.raw_response_spool: Claude answered but Storage refused the raw upload. The verbatim bytes wait here,
-- in the same transaction that marks the conversation raw_spooled, until the sweeper uploads them; the storage
-- trigger then marks the row raw_stored and the spool row is deleted. A response that reached the function is
-- never dropped. Service role only: users never see this table.

create table if not exists public.raw_response_spool (
  conversation_id uuid primary key references public.conversations (conversation_id) on delete cascade,
  user_id uuid not null,
  raw bytea not null,
  raw_sha256 text not null,
  raw_size bigint not null,
  content_type text not null default 'application/json',
  upload_attempts integer not null default 0
    constraint raw_response_spool_upload_attempts_nonnegative check (upload_attempts >= 0),
  last_error text,
  next_attempt_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  -- The recorded size and hash must describe the bytes actually held: the sweeper uploads `raw` and the parse
  -- step later verifies the object against conversations.raw_sha256, so a mismatch here would surface as a
  -- corrupted raw response long after the fact. Checked once, at write time (a few ms for a 1 MB response).
  constraint raw_response_spool_size_matches check (raw_size = octet_length(raw)),
  constraint raw_response_spool_sha256_matches check (raw_sha256 = encode(sha256(raw), 'hex'))
);

comment on table public.raw_response_spool is
  'Raw Claude responses waiting for Storage (status raw_spooled); the sweeper uploads and deletes them';
comment on column public.raw_response_spool.next_attempt_at is 'Earliest time of the next upload attempt (backoff)';

create index if not exists idx_raw_response_spool_due on public.raw_response_spool (next_attempt_at);

alter table public.raw_response_spool enable row level security;

create or replace trigger on_row_written before insert or update of conversation_id, user_id
  on public.raw_response_spool
  for each row execute function private.check_conversation_owner();
