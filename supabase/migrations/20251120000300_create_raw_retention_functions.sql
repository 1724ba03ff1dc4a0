-- Raw retention (the checklist's "cleanup job", opt-in with RAW_RETENTION_DAYS): the raw-retention function
-- deletes, through the Storage API, the raw objects of conversations that were parsed successfully long ago.
--
-- Flow (shared/retention/run_raw_retention.ts): private.mark_raw_deleted picks and marks a bounded batch in one
-- statement → the function removes those objects through the Storage API → on a Storage error
-- private.unmark_raw_deleted puts the marks back. Marking first means no other step can start using a raw
-- object that is about to disappear: every reader checks raw_deleted_at, and a row that moved on (a re-upload
-- marks it raw_stored) is never picked. A run that dies between marking and removing leaves marked rows whose
-- objects still exist; private.raw_deletions_unfinished finds them and the next run removes them.
--
-- Eligible raw, and nothing else:
--   processing_status = 'completed'     never generating/raw_stored/parsing (in flight), parse_failed (in review
--                                       or dismissed: the raw is the only evidence), generation_failed, raw_spooled
--   not requires_manual_review          defensive: the flag means a person still owes it a look
--   parse_method_used <> 'manual'       a person corrected it in review: its raw shows why the parser failed,
--                                       a regression case for the next parser version (docs/MONITORING.md)
--   raw_deleted_at is null, raw_response_path is not null, raw_stored_at older than the cutoff
-- The predicate appears twice below (candidates, mark); supabase/tests/database/080_raw_retention.test.sql
-- checks that both pick the same rows.

-- Makes the daily pick an index range scan over eligible rows only, however many completed rows have had
-- their raw deleted already. Its columns are the pick's ORDER BY, so `order by … limit n` reads n index entries
-- whatever the planner guesses for the cutoff (inside these functions it is a parameter, not a constant).
create index if not exists idx_conversations_raw_retention
  on public.conversations (raw_stored_at, conversation_id)
  where processing_status = 'completed' and raw_deleted_at is null and raw_response_path is not null;
-- Recently marked rows, for the unfinished-deletion check.
create index if not exists idx_conversations_raw_deleted_at
  on public.conversations (raw_deleted_at)
  where raw_deleted_at is not null;

-- What a run would delete (the dry run), oldest first.
create or replace function private.raw_retention_candidates(p_cutoff timestamptz, p_limit integer)
returns table (
  conversation_id uuid,
  user_id uuid,
  raw_response_path text,
  raw_response_size bigint,
  raw_stored_at timestamptz
)
language sql
stable
set search_path = ''
as $$
  select c.conversation_id, c.user_id, c.raw_response_path, c.raw_response_size, c.raw_stored_at
    from public.conversations c
   where c.processing_status = 'completed'
     and not c.requires_manual_review
     and c.parse_method_used is distinct from 'manual'
     and c.raw_deleted_at is null
     and c.raw_response_path is not null
     and c.raw_stored_at < p_cutoff
   order by c.raw_stored_at, c.conversation_id
   limit greatest(p_limit, 0)
$$;

-- How much is eligible in total (the dry run's headline: the candidates list is bounded, this is not).
create or replace function private.raw_retention_totals(p_cutoff timestamptz, out eligible bigint, out bytes numeric)
language sql
stable
set search_path = ''
as $$
  select count(*), coalesce(sum(c.raw_response_size), 0)
    from public.conversations c
   where c.processing_status = 'completed'
     and not c.requires_manual_review
     and c.parse_method_used is distinct from 'manual'
     and c.raw_deleted_at is null
     and c.raw_response_path is not null
     and c.raw_stored_at < p_cutoff
$$;

-- Picks and marks one batch in one statement (SKIP LOCKED: overlapping runs take different rows; a row locked by
-- a parse or review transaction is left for the next run). Returns what it marked.
-- plpgsql, not sql: plpgsql plans this statement with the actual limit and cutoff, so the update joins the
-- picked ids by primary key. A SQL function plans it generically, guesses a large batch and hash-joins the
-- whole table (0.8 s instead of 4 ms at one million rows).
create or replace function private.mark_raw_deleted(
  p_cutoff timestamptz,
  p_limit integer,
  p_now timestamptz default now()
) returns table (
  conversation_id uuid,
  user_id uuid,
  raw_response_path text,
  raw_response_size bigint,
  raw_stored_at timestamptz
)
language plpgsql
volatile
set search_path = ''
as $$
#variable_conflict use_column
begin
  return query
  with picked as (
    select c.id
      from public.conversations c
     where c.processing_status = 'completed'
       and not c.requires_manual_review
       and c.parse_method_used is distinct from 'manual'
       and c.raw_deleted_at is null
       and c.raw_response_path is not null
       and c.raw_stored_at < p_cutoff
     order by c.raw_stored_at, c.conversation_id
     limit greatest(p_limit, 0)
       for update skip locked
  )
  update public.conversations c
     set raw_deleted_at = p_now
    from picked
   where c.id = picked.id
  returning c.conversation_id, c.user_id, c.raw_response_path, c.raw_response_size, c.raw_stored_at;
end
$$;

-- Storage refused the removal: take the marks of this batch back (only the marks this run made, p_marked_at).
create or replace function private.unmark_raw_deleted(p_conversation_ids uuid[], p_marked_at timestamptz)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  _n integer;
begin
  update public.conversations c
     set raw_deleted_at = null
   where c.conversation_id = any(p_conversation_ids)
     and c.raw_deleted_at = p_marked_at;
  get diagnostics _n = row_count;
  return _n;
end
$$;

-- Rows marked deleted (between p_since and p_before) whose raw object still exists: a run died after marking.
-- p_before leaves a run that is removing right now alone.
create or replace function private.raw_deletions_unfinished(
  p_since timestamptz,
  p_before timestamptz,
  p_limit integer
) returns table (conversation_id uuid, raw_response_path text, raw_deleted_at timestamptz)
language sql
stable
set search_path = ''
as $$
  select c.conversation_id, c.raw_response_path, c.raw_deleted_at
    from public.conversations c
   where c.raw_deleted_at >= p_since
     and c.raw_deleted_at < p_before
     and exists (select 1 from storage.objects o
                  where o.bucket_id = 'conversation-files'
                    and o.name = c.raw_response_path)
   order by c.raw_deleted_at
   limit greatest(p_limit, 0)
$$;

revoke all on function private.raw_retention_candidates(timestamptz, integer) from public;
revoke all on function private.raw_retention_totals(timestamptz) from public;
revoke all on function private.mark_raw_deleted(timestamptz, integer, timestamptz) from public;
revoke all on function private.unmark_raw_deleted(uuid[], timestamptz) from public;
revoke all on function private.raw_deletions_unfinished(timestamptz, timestamptz, integer) from public;
grant execute on function private.raw_retention_candidates(timestamptz, integer) to service_role;
grant execute on function private.raw_retention_totals(timestamptz) to service_role;
grant execute on function private.mark_raw_deleted(timestamptz, integer, timestamptz) to service_role;
grant execute on function private.unmark_raw_deleted(uuid[], timestamptz) to service_role;
grant execute on function private.raw_deletions_unfinished(timestamptz, timestamptz, integer) to service_role;
