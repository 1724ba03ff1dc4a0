-- raw_orphans: raw objects and conversation rows that do not match, both ways. Read by the monitor (issue 8:
-- "objects without rows" is one of its rules), by people (docs/PARSE_FLOW.md), and mirrored by the sweeper's
-- reconciliation (private.reconcile_raw_objects), which repairs what can be repaired.
--
--   kind                 detail                  meaning
--   object_without_row   no_row                  a raw object whose conversation row does not exist (the
--                                                reconciliation creates it, as the trigger would have)
--   object_without_row   no_auth_user            … and its path names no user: nothing can be recorded; a person
--                                                must decide (the object is kept)
--   object_unmarked      not_marked_raw_stored   the row exists but still says generating / raw_spooled /
--                                                generation_failed although its object is stored (the trigger's
--                                                recording failed; the reconciliation retries it)
--   object_forged        row_of_other_user       the object's path names a user, the conversation belongs to another
--   object_forged        uploaded_by_other_user  the object was uploaded by a user other than the one in its path
--   row_without_object   object_missing          a row says its raw object is stored (raw_stored, parsing,
--                                                completed, parse_failed; not deleted by retention) but no raw
--                                                object of that conversation exists
--
-- Two anti-joins on the raw path (hash joins, no per-object parsing): objects whose name is no row's
-- raw_response_path, and rows whose raw_response_path is no object. Only the few unmatched objects are parsed and
-- classified. Measured at one million rows and objects in docs/PARSE_FLOW.md (about a second: meant for the
-- 5-minute monitor, not for every request). security_invoker: callers see what their privileges allow
-- (service_role sees everything).
create or replace view public.raw_orphans with (security_invoker = true) as
-- MATERIALIZED keeps the name parsing out of the scan: only the few unmatched objects are parsed.
with unmatched as materialized (
  select o.name, o.owner_id, o.created_at
    from storage.objects o
   where o.bucket_id = 'conversation-files'
     and o.name like 'raw/%'
     and not exists (select 1 from public.conversations c where c.raw_response_path = o.name)
),
unmatched_objects as (
  select u.name, u.owner_id, u.created_at,
         private.raw_object_user_id(u.name) as user_id,
         private.raw_object_conversation_id(u.name) as conversation_id
    from unmatched u
)
select case
         when private.is_forged_raw_upload(r.name, r.owner_id) or c.user_id <> r.user_id then 'object_forged'
         when c.conversation_id is null then 'object_without_row'
         else 'object_unmarked'
       end as kind,
       case
         when private.is_forged_raw_upload(r.name, r.owner_id) then 'uploaded_by_other_user'
         when c.user_id <> r.user_id then 'row_of_other_user'
         when c.conversation_id is null then
           case when private.is_auth_user(r.user_id) then 'no_row' else 'no_auth_user' end
         else 'not_marked_raw_stored'
       end as detail,
       r.conversation_id, r.user_id, r.name as object_name, c.processing_status::text as processing_status,
       r.created_at as since
  from unmatched_objects r
  left join public.conversations c on c.conversation_id = r.conversation_id
 where r.conversation_id is not null
   -- a matching row that is further along points at another path: not an orphan of this kind
   and (c.conversation_id is null or c.user_id <> r.user_id or private.is_forged_raw_upload(r.name, r.owner_id)
        or c.processing_status in ('generating', 'raw_spooled', 'generation_failed'))
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
