-- The manual review queue's state changes, one function each (called by shared/adapters/review_repo.ts for the
-- review-queue function; docs/REVIEW.md):
--   requeue_for_review    parse_failed (in review) → raw_stored, due now: the parse flow's own claim then takes it
--   resolve_conversation  parse_failed (in review) → completed with parse_method_used 'manual', + an attempts row
--   dismiss_conversation  parse_failed (in review) → out of the queue with a reason; status and raw stay
-- plus the indexes behind the queue listing.
--
-- "In review" means processing_status = 'parse_failed' and requires_manual_review. Every function is one guarded
-- UPDATE; when it matches nothing, a second read (same scope) tells why, so the caller can answer 404 (not the
-- caller's, or no such row: indistinguishable on purpose) or 409 (not in review). p_user_id scopes the call to
-- one owner; null is the service role (every row).

-- Why a guarded update matched nothing. 'not_found' also when the row belongs to another user.
create or replace function private.review_refusal(p_conversation_id uuid, p_user_id uuid) returns text
language sql
stable
security definer
-- definer: see requeue_for_review.
set search_path = ''
as $$
  select case
           when c.conversation_id is null then 'not_found'
           when c.processing_status = 'parse_failed' and c.requires_manual_review
                and (c.raw_response_path is null or c.raw_deleted_at is not null) then 'raw_unavailable'
           else 'not_in_review'
         end
    from (select 1) one
    left join public.conversations c
      on c.conversation_id = p_conversation_id and (p_user_id is null or c.user_id = p_user_id)
$$;

-- Makes an item claimable again for a re-parse (POST …/retry and retry-all). requires_manual_review stays true
-- until the parse writes its new outcome: complete_parse clears it, fail_parse keeps it, so the item never looks
-- "fine" before it is. Needs the raw object: a row whose raw was deleted by retention cannot be re-parsed.
-- Returns null when the row moved, else the refusal (see review_refusal).
create or replace function private.requeue_for_review(
  p_conversation_id uuid,
  p_user_id uuid default null,
  p_now timestamptz default now()
) returns text
language plpgsql
volatile
security definer
-- definer: the function connects as whatever SUPABASE_DB_URL names; like the parse claim functions, the state
-- change must not depend on that role's table grants.
set search_path = ''
as $$
begin
  update public.conversations c
     set processing_status = 'raw_stored',
         next_attempt_at = p_now,
         claimed_until = null
   where c.conversation_id = p_conversation_id
     and (p_user_id is null or c.user_id = p_user_id)
     and c.processing_status = 'parse_failed'
     and c.requires_manual_review
     and c.raw_response_path is not null
     and c.raw_deleted_at is null;
  if found then
    return null;
  end if;
  return private.review_refusal(p_conversation_id, p_user_id);
end
$$;

-- A reviewer's corrected conversation, already validated and stored as the final file by the caller (which holds
-- the row lock while uploading, so two resolves cannot interleave). One transaction: the row becomes completed
-- with method 'manual', the reviewer and notes are recorded, and the attempts log gets a 'manual' row. The trigger
-- on storage.objects leaves a manual result alone if the raw object is uploaded again (ignored_manual).
-- Returns null when resolved, else the refusal; 'unknown_reviewer' when p_reviewed_by is not a user.
create or replace function private.resolve_conversation(
  p_conversation_id uuid,
  p_user_id uuid,
  p_reviewed_by uuid,
  p_notes text,
  p_file_path text,
  p_file_size bigint,
  p_turn_count integer,
  p_conversation_name text,
  p_parser_version text,
  p_now timestamptz default now()
) returns text
language plpgsql
volatile
security definer
-- definer: see requeue_for_review; also reads auth.users (owned by supabase_auth_admin on Supabase).
set search_path = ''
as $$
declare
  _user uuid;
  _attempt integer;
  _stop text;
begin
  if p_reviewed_by is not null and not exists (select 1 from auth.users u where u.id = p_reviewed_by) then
    return 'unknown_reviewer';
  end if;
  update public.conversations c
     set processing_status = 'completed',
         parse_method_used = 'manual',
         parser_version = p_parser_version,
         requires_manual_review = false,
         -- The error is history now: the attempts log keeps every message; the row describes the current result.
         parse_error_message = null,
         parse_attempts = c.parse_attempts + 1,
         last_parse_attempt_at = p_now,
         file_path = p_file_path,
         file_size = p_file_size,
         turn_count = p_turn_count,
         conversation_name = p_conversation_name,
         reviewed_by = p_reviewed_by,
         reviewed_at = p_now,
         review_notes = p_notes,
         claimed_until = null,
         next_attempt_at = null
   where c.conversation_id = p_conversation_id
     and (p_user_id is null or c.user_id = p_user_id)
     and c.processing_status = 'parse_failed'
     and c.requires_manual_review
  returning c.user_id, c.parse_attempts, c.stop_reason into _user, _attempt, _stop;
  if not found then
    return private.review_refusal(p_conversation_id, p_user_id);
  end if;
  insert into public.conversation_parse_attempts
    (conversation_id, user_id, attempt_number, parser_version, method, outcome, stop_reason, triggered_by,
     created_at)
  values (p_conversation_id, _user, _attempt, p_parser_version, 'manual', 'parsed', _stop, 'manual', p_now);
  return null;
end
$$;

-- Takes an item out of the queue without a conversation. The status stays parse_failed (nothing was parsed) and
-- the raw object stays where it is; dismissed_at/dismissed_reason say who decided what. A later upload of new raw
-- bytes, or a new failure, brings the row back into review through the normal path.
create or replace function private.dismiss_conversation(
  p_conversation_id uuid,
  p_user_id uuid,
  p_reviewed_by uuid,
  p_reason text,
  p_now timestamptz default now()
) returns text
language plpgsql
volatile
security definer
-- definer: see resolve_conversation.
set search_path = ''
as $$
begin
  if p_reviewed_by is not null and not exists (select 1 from auth.users u where u.id = p_reviewed_by) then
    return 'unknown_reviewer';
  end if;
  if p_reason is null or btrim(p_reason) = '' then
    raise exception 'Cannot dismiss conversation %: a reason is required', p_conversation_id
      using errcode = '22023', hint = 'The reason is what a later reader of the queue acts on.';
  end if;
  update public.conversations c
     set requires_manual_review = false,
         dismissed_at = p_now,
         dismissed_reason = p_reason,
         reviewed_by = p_reviewed_by,
         reviewed_at = p_now
   where c.conversation_id = p_conversation_id
     and (p_user_id is null or c.user_id = p_user_id)
     and c.processing_status = 'parse_failed'
     and c.requires_manual_review;
  if found then
    return null;
  end if;
  return private.review_refusal(p_conversation_id, p_user_id);
end
$$;

-- The queue listing: newest first with a (created_at, conversation_id) keyset, for everyone (service role) and per
-- user. Partial: only rows in review, so the index stays as small as the queue however large the table grows.
create index if not exists idx_conversations_review_queue
  on public.conversations (created_at desc, conversation_id desc)
  where processing_status = 'parse_failed' and requires_manual_review;
create index if not exists idx_conversations_review_queue_user
  on public.conversations (user_id, created_at desc, conversation_id desc)
  where processing_status = 'parse_failed' and requires_manual_review;
-- status=dismissed (audit listing).
create index if not exists idx_conversations_dismissed
  on public.conversations (created_at desc, conversation_id desc)
  where dismissed_at is not null;

comment on column public.conversations.reviewed_by is
  'The reviewer who resolved or dismissed the item (null when the service role acted without naming one)';
comment on column public.conversations.review_notes is 'Free text the reviewer left when resolving';
comment on column public.conversations.dismissed_reason is 'Why a reviewer took the item out of the queue';

revoke all on function private.review_refusal(uuid, uuid) from public;
revoke all on function private.requeue_for_review(uuid, uuid, timestamptz) from public;
revoke all on function private.resolve_conversation(uuid, uuid, uuid, text, text, bigint, integer, text, text,
  timestamptz) from public;
revoke all on function private.dismiss_conversation(uuid, uuid, uuid, text, timestamptz) from public;

grant execute on function private.requeue_for_review(uuid, uuid, timestamptz) to service_role;
grant execute on function private.resolve_conversation(uuid, uuid, uuid, text, text, bigint, integer, text, text,
  timestamptz) to service_role;
grant execute on function private.dismiss_conversation(uuid, uuid, uuid, text, timestamptz) to service_role;
