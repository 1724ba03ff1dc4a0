-- raw_orphans: raw objects and conversation rows that do not match, both ways. Read by the monitor (issue 8:
-- "objects without rows" is one of its rules), by the sweeper's counts, and by people (docs/PARSE_FLOW.md).
--
--   kind                 detail                  meaning
--   object_without_row   no_row                  a raw object whose conversation row does not exist (the sweeper
--                                                creates it, as the trigger would have)
--   object_without_row   no_auth_user            … and its path names no user: nothing can be recorded; a person
--                                                must decide (the object is kept)
--   object_unmarked      not_marked_raw_stored   the row exists but still says generating / raw_spooled /
--                                                generation_failed although its object is stored (the trigger's
--                                                recording failed; the sweeper retries it)
--   object_forged        row_of_other_user       the object's path names a user, the conversation belongs to another
--   object_forged        uploaded_by_other_user  the object was uploaded by a user other than the one in its path
--   row_without_object   object_missing          a row says its raw object is stored (raw_stored, parsing,
--                                                completed, parse_failed; not deleted by retention) but it is gone
--
-- Cost: one pass over raw objects and one over rows with a raw path (anti-joins on the unique indexes
-- storage.objects(bucket_id, name) and conversations(conversation_id)); meant for a 5-minute monitor, not per
-- request. security_invoker: callers see what their own privileges allow (service_role sees everything).
create or replace view public.raw_orphans with (security_invoker = true) as
with raw_objects as (
  select o.name, o.created_at, ids.user_id, ids.conversation_id,
         -- the same test as private.record_raw_object: uploaded by a real user other than the path's
         coalesce(o.owner_id <> ids.user_id::text and o.owner_id ~ '^[0-9a-fA-F-]{36}$'
                  and private.is_auth_user(o.owner_id::uuid), false) as forged_owner
    from storage.objects o
    cross join lateral private.raw_object_ids(o.name) ids
   where o.bucket_id = 'conversation-files'
     and o.name like 'raw/%'
     and ids.conversation_id is not null
)
select 'object_without_row'::text as kind,
       case when private.is_auth_user(r.user_id) then 'no_row' else 'no_auth_user' end as detail,
       r.conversation_id, r.user_id, r.name as object_name, null::text as processing_status,
       r.created_at as since
  from raw_objects r
 where not r.forged_owner
   and not exists (select 1 from public.conversations c where c.conversation_id = r.conversation_id)
union all
select 'object_unmarked', 'not_marked_raw_stored', r.conversation_id, r.user_id, r.name, c.processing_status::text,
       r.created_at
  from raw_objects r
  join public.conversations c on c.conversation_id = r.conversation_id and c.user_id = r.user_id
 where not r.forged_owner
   and c.processing_status in ('generating', 'raw_spooled', 'generation_failed')
union all
select 'object_forged',
       case when r.forged_owner then 'uploaded_by_other_user' else 'row_of_other_user' end,
       r.conversation_id, r.user_id, r.name, c.processing_status::text, r.created_at
  from raw_objects r
  left join public.conversations c on c.conversation_id = r.conversation_id
 where r.forged_owner or (c.user_id is not null and c.user_id <> r.user_id)
union all
select 'row_without_object', 'object_missing', c.conversation_id, c.user_id, c.raw_response_path,
       c.processing_status::text, c.raw_stored_at
  from public.conversations c
 where c.raw_response_path is not null
   and c.raw_deleted_at is null
   and c.processing_status in ('raw_stored', 'parsing', 'completed', 'parse_failed')
   and not exists (select 1 from storage.objects o
                    where o.bucket_id = 'conversation-files' and o.name = c.raw_response_path);

comment on view public.raw_orphans is
  'Raw objects without a matching conversation row and rows whose raw object is missing; see docs/PARSE_FLOW.md';

revoke all on public.raw_orphans from public, anon, authenticated;
grant select on public.raw_orphans to service_role;
grant execute on function private.is_auth_user(uuid) to service_role;
