-- public.conversation_parse_attempts: one row per parse attempt, never updated. conversations holds the latest
-- outcome; this log keeps every one, so a re-parse after a parser upgrade can be compared with what came before
-- (parser_version, method, outcome, fixes, duration).

create table if not exists public.conversation_parse_attempts (
  id bigserial primary key,
  conversation_id uuid not null references public.conversations (conversation_id) on delete cascade,
  -- The conversation's owner, copied so RLS can filter without a join. Filled from the conversation when
  -- omitted; a different value is refused (private.check_conversation_owner).
  user_id uuid not null,
  attempt_number integer not null constraint conversation_parse_attempts_attempt_number_positive
    check (attempt_number > 0),
  parser_version text not null,
  method varchar(50) constraint conversation_parse_attempts_method_check
    check (method is null or method in ('direct', 'extracted', 'jsonrepair', 'manual')),
  outcome text not null constraint conversation_parse_attempts_outcome_check
    check (outcome in ('parsed', 'partial', 'failed', 'error')),
  error_code text,
  error_message text,
  fixes jsonb not null default '[]'::jsonb
    constraint conversation_parse_attempts_fixes_is_array check (jsonb_typeof(fixes) = 'array'),
  stop_reason text,
  truncated boolean not null default false,
  partial_conversation jsonb,
  duration_ms numeric(10, 3) constraint conversation_parse_attempts_duration_nonnegative check (duration_ms >= 0),
  triggered_by text,
  created_at timestamptz not null default now()
);

comment on table public.conversation_parse_attempts is
  'Append-only log: one row per parse attempt of a conversation (parser version, method, outcome, error)';
comment on column public.conversation_parse_attempts.outcome is
  'parsed: a complete conversation; partial: truncated or incomplete, kept for review; failed: the content '
  'cannot be parsed; error: infrastructure failure (download, database), retried with backoff';
comment on column public.conversation_parse_attempts.fixes is
  'The repairs and coercions the parse chain applied, in order (JSON array)';
comment on column public.conversation_parse_attempts.partial_conversation is
  'Best partial result of a partial/failed attempt, kept for the reviewer; never the final file';
comment on column public.conversation_parse_attempts.triggered_by is
  'Who asked: trigger, sweeper, review, retry_all, manual';

create index if not exists idx_conversation_parse_attempts_conversation
  on public.conversation_parse_attempts (conversation_id, created_at);
create index if not exists idx_conversation_parse_attempts_user
  on public.conversation_parse_attempts (user_id, created_at desc);

alter table public.conversation_parse_attempts enable row level security;

-- Rows that carry a copy of the conversation's owner (attempts, spool) take it from the conversation: a writer
-- may omit user_id, and can never file a row under another user, which RLS would then show to that user.
create or replace function private.check_conversation_owner() returns trigger
language plpgsql
security definer
-- definer: the writer may be a role that cannot read every conversation row (RLS); the check needs the owner.
set search_path = ''
as $$
declare
  _owner uuid;
begin
  select c.user_id into _owner from public.conversations c where c.conversation_id = new.conversation_id;
  if _owner is null then
    -- Said here because NOT NULL (user_id) would otherwise fire before the foreign key and hide the cause.
    raise exception 'Cannot write % for conversation %: no such conversation', tg_table_name, new.conversation_id
      using errcode = '23503';
  end if;
  if new.user_id is null then
    new.user_id := _owner;
  elsif new.user_id <> _owner then
    raise exception 'Cannot write % for conversation %: user_id % is not the conversation''s owner',
      tg_table_name, new.conversation_id, new.user_id
      using errcode = '23514',
            hint = 'Omit user_id: it is copied from public.conversations.user_id.';
  end if;
  return new;
end
$$;

revoke all on function private.check_conversation_owner() from public;

create or replace trigger on_row_written before insert or update of conversation_id, user_id
  on public.conversation_parse_attempts
  for each row execute function private.check_conversation_owner();
