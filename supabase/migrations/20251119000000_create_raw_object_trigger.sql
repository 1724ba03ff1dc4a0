-- Dispatch: a raw response stored at conversation-files/raw/{user_id}/{conversation_id}.json marks its
-- conversation `raw_stored` in the object row's own transaction, then wakes parse-conversation.
--
-- Flow: generate-conversation → Storage API (object row) → trigger on_raw_object_stored (this file)
--       → private.invoke_edge_function('parse-conversation') → shared/parse_flow/parse_conversation.ts.
-- The sweeper (20251119000300_create_conversation_sweeper.sql) reuses private.record_raw_object for objects whose
-- trigger run recorded nothing, so both paths apply exactly the same rules. docs/PARSE_FLOW.md explains each rule.

-- Whether a name is raw/{uuid}/{uuid}.json with lowercase canonical uuids (our code builds names from canonical
-- uuids, and one spelling per conversation keeps raw_response_path equal to the object's name). Written without
-- counted regex repetitions: PostgreSQL's regex engine spends about 10 µs per name on `[0-9a-f]{8}-…`, against
-- about 1 µs for this simple pattern plus fixed-position checks, and reconciliation reads every raw object.
-- Plain immutable SQL without SET or SECURITY DEFINER, so the planner inlines these helpers into the queries.
create or replace function private.is_raw_object_name(p_name text) returns boolean
language sql
immutable
parallel safe
as $$
  select length(p_name) = 82
     and p_name ~ '^raw/[-0-9a-f]+/[-0-9a-f]+[.]json$'
     and substr(p_name, 41, 1) = '/'
     and substr(p_name, 13, 1) || substr(p_name, 18, 1) || substr(p_name, 23, 1) || substr(p_name, 28, 1)
         || substr(p_name, 50, 1) || substr(p_name, 55, 1) || substr(p_name, 60, 1) || substr(p_name, 65, 1)
         = '--------'
     and length(replace(p_name, '-', '')) = 74
$$;

-- The user and conversation ids in a raw object's name, or null when the name is not ours.
create or replace function private.raw_object_user_id(p_name text) returns uuid
language sql
immutable
parallel safe
as $$
  select case when private.is_raw_object_name(p_name) then substr(p_name, 5, 36)::uuid end
$$;

create or replace function private.raw_object_conversation_id(p_name text) returns uuid
language sql
immutable
parallel safe
as $$
  select case when private.is_raw_object_name(p_name) then substr(p_name, 42, 36)::uuid end
$$;

-- Whether a uuid names a user. Definer: on Supabase auth.users belongs to supabase_auth_admin.
create or replace function private.is_auth_user(p_user_id uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from auth.users where id = p_user_id)
$$;

-- Whether an object's uploader (owner_id, the JWT sub) is a real user other than the one in its path. CASE fixes
-- the order, so the user lookup only runs for the rare object a signed-in user uploaded.
create or replace function private.is_forged_raw_upload(p_name text, p_owner_id text) returns boolean
language sql
stable
as $$
  select case
           when p_owner_id is null or p_owner_id = private.raw_object_user_id(p_name)::text then false
           when p_owner_id !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then false
           else private.is_auth_user(p_owner_id::uuid)
         end
$$;

-- Records one stored raw object against its conversation. Returns what it did and the conversation id:
--   created            no row existed: an orphan becomes a reviewable conversation (raw_stored, no scaffolding)
--   marked             the row is now raw_stored with this object's path, size and time (claim released)
--   ignored_bucket     another bucket
--   ignored_name       not raw/{uuid}/{uuid}.json
--   ignored_forged     uploaded by a different user than the one in the path, or the conversation belongs to
--                      another user: a forged object never starts a parse (raw_orphans reports it)
--   ignored_no_user    no row and the path's user does not exist (a row needs a user; raw_orphans reports it)
--   ignored_manual     the row was resolved by hand in review: a later upload must not undo a person's work
-- Re-marking a row that already got further (parsing, completed, parse_failed) is deliberate: new bytes at the
-- raw path (an upsert, or a delete and upload) are parsed again, and bytes that differ from the sha256 recorded
-- at generation are sent to review by the parse step. A worker still parsing the old bytes loses its claim.
create or replace function private.record_raw_object(
  p_bucket_id text,
  p_name text,
  p_owner_id text,
  p_size bigint,
  p_now timestamptz default now(),
  out outcome text,
  out conversation_id uuid
)
language plpgsql
volatile
security definer
-- definer: the Storage API writes objects as service_role; the trigger must write conversations whatever the
-- writer's role, and read auth.users.
set search_path = ''
as $$
#variable_conflict use_column
declare
  _user uuid;
  _row record;
begin
  if p_bucket_id is distinct from 'conversation-files' then
    outcome := 'ignored_bucket';
    return;
  end if;
  _user := private.raw_object_user_id(p_name);
  conversation_id := private.raw_object_conversation_id(p_name);
  if conversation_id is null then
    outcome := 'ignored_name';
    return;
  end if;
  -- owner_id is the uploader's JWT sub. Service-key uploads have none; a user's own upload to their own folder
  -- is allowed (the bucket's policies decide who may upload). Only a real user other than the path's is forged.
  if private.is_forged_raw_upload(p_name, p_owner_id) then
    raise warning 'raw object %: uploaded by user %, not by the user in its path; not parsed', p_name, p_owner_id;
    outcome := 'ignored_forged';
    return;
  end if;

  select c.user_id, c.processing_status, c.parse_method_used into _row
    from public.conversations c where c.conversation_id = record_raw_object.conversation_id for update;
  if not found then
    if not private.is_auth_user(_user) then
      raise warning 'raw object %: no conversation and no user %; nothing recorded', p_name, _user;
      outcome := 'ignored_no_user';
      return;
    end if;
    insert into public.conversations
      (conversation_id, user_id, processing_status, raw_response_path, raw_response_size, raw_stored_at,
       next_attempt_at)
    values (record_raw_object.conversation_id, _user, 'raw_stored', p_name, p_size, p_now, p_now)
    on conflict (conversation_id) do nothing;
    if found then
      outcome := 'created';
      return;
    end if;
    -- Lost a race with the row's own insert: lock it and apply the rules below.
    select c.user_id, c.processing_status, c.parse_method_used into _row
      from public.conversations c where c.conversation_id = record_raw_object.conversation_id for update;
  end if;

  if _row.user_id <> _user then
    raise warning 'raw object %: conversation % belongs to another user; not parsed', p_name, conversation_id;
    outcome := 'ignored_forged';
    return;
  end if;
  if _row.processing_status = 'completed' and _row.parse_method_used = 'manual' then
    raise warning 'raw object %: conversation % was resolved in review; left as it is', p_name, conversation_id;
    outcome := 'ignored_manual';
    return;
  end if;

  update public.conversations c
     set processing_status = 'raw_stored',
         raw_response_path = p_name,
         raw_response_size = p_size,
         raw_stored_at = p_now,
         -- A new upload brings the bytes back: raw retention may treat this row again.
         raw_deleted_at = null,
         next_attempt_at = p_now,
         claimed_until = null,
         requires_manual_review = false
   where c.conversation_id = record_raw_object.conversation_id;
  outcome := 'marked';
end
$$;

-- The trigger function. Total: it never raises, so pipeline bookkeeping can never fail an upload.
--
-- Decision (docs/PARSE_FLOW.md "The trigger"): when recording fails unexpectedly, the object row still commits
-- and only a WARNING is logged. The bytes are the one thing that must not be lost; failing the upload would make
-- the Storage API drop them and push the response back to a caller that may have no way left to store it. The
-- object then shows in raw_orphans and the sweeper records it with the same function on its next run. In the
-- normal case the object row and the conversation row commit together (same transaction, no exception block
-- rolled back). The wake-up is separate: it is only a hint, and losing it costs one sweep interval.
create or replace function private.on_raw_object_stored() returns trigger
language plpgsql
security definer
-- definer: calls private functions the writer (service_role, or a user through RLS) cannot execute.
set search_path = ''
as $$
declare
  _rec record;
  _size bigint;
begin
  -- An UPDATE that is not a new upload (last_accessed_at, user_metadata) changes nothing in the pipeline.
  if tg_op = 'UPDATE' and new.name is not distinct from old.name and new.version is not distinct from old.version
     and new.metadata is not distinct from old.metadata then
    return null;
  end if;
  _size := case when new.metadata ->> 'size' ~ '^[0-9]{1,18}$' then (new.metadata ->> 'size')::bigint end;
  begin
    select * into _rec from private.record_raw_object(new.bucket_id, new.name, new.owner_id, _size, now());
  exception when others then
    raise warning 'on_raw_object_stored: cannot record % (SQLSTATE %): %; the sweeper will retry',
      new.name, sqlstate, sqlerrm;
    return null;
  end;
  if _rec.outcome in ('created', 'marked') then
    begin
      perform private.invoke_edge_function(
        'parse-conversation',
        jsonb_build_object('conversation_id', _rec.conversation_id, 'source', 'trigger')
      );
    exception when others then
      raise warning 'on_raw_object_stored: cannot queue the wake-up for % (SQLSTATE %): %; the sweeper will',
        _rec.conversation_id, sqlstate, sqlerrm;
    end;
  end if;
  return null;
end
$$;

drop trigger if exists on_raw_object_stored on storage.objects;
-- The WHEN clause keeps every other upload in the project free of this function's cost.
create trigger on_raw_object_stored
  after insert or update on storage.objects
  for each row
  when (new.bucket_id = 'conversation-files' and new.name like 'raw/%')
  execute function private.on_raw_object_stored();

revoke all on function private.is_raw_object_name(text) from public;
revoke all on function private.raw_object_user_id(text) from public;
revoke all on function private.raw_object_conversation_id(text) from public;
revoke all on function private.is_auth_user(uuid) from public;
revoke all on function private.is_forged_raw_upload(text, text) from public;
revoke all on function private.record_raw_object(text, text, text, bigint, timestamptz) from public;
revoke all on function private.on_raw_object_stored() from public;
grant execute on function private.is_raw_object_name(text), private.raw_object_user_id(text),
  private.raw_object_conversation_id(text),
  private.is_auth_user(uuid), private.is_forged_raw_upload(text, text) to service_role;
grant execute on function private.record_raw_object(text, text, text, bigint, timestamptz) to service_role;
