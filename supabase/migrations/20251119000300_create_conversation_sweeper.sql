-- The sweeper: the database is the queue and HTTP is only the wake-up call (pg_net never retries and loses its
-- queue on a crash), so once a minute pg_cron runs private.sweep_conversations(), which finds what a lost wake-up,
-- a crashed worker or a Storage outage left behind, and wakes parse-conversation for it. Every step is bounded
-- by p_batch (default 200: four requests of 50 per minute, so 1,000 lost wake-ups drain in about five minutes
-- while each request stays far inside the function's limits), so a backlog drains over several runs instead of
-- one long transaction.
--
--   1. expired claims       parsing rows whose lease ended: the attempt is logged as claim_expired and the row
--                           becomes claimable again (or goes to review after too many such attempts in a row)
--   2. unrecorded objects   raw objects older than the grace period (and younger than p_orphan_window, 1 day, so
--                           the scan stays small; widen it by hand for older ones) with no row, or with a row the
--                           trigger did not mark (raw_orphans kinds object_without_row/no_row and object_unmarked),
--                           recorded with private.record_raw_object: the same rules as the trigger
--   3. due raw_stored rows  rows whose wake-up is overdue (stored more than the grace period ago, or released with
--                           a backoff that has ended): posted as {conversation_ids: [...]} in requests of ≤ 50
--   4. the spool            when raw_response_spool has due rows: {flush_spool: true} (the function uploads them;
--                           the trigger then marks each row raw_stored and wakes its parse)
--   5. the orphan report    counts rows whose raw object is missing (raw_orphans has the list) and warns
--
-- Returns a jsonb summary (also useful by hand: `select private.sweep_conversations();`). Time is a parameter so
-- tests can move it instead of sleeping. Two sweeps never overlap (a transaction-level advisory lock).
create or replace function private.sweep_conversations(
  p_now timestamptz default now(),
  p_batch integer default 200,
  p_grace interval default interval '30 seconds',
  p_max_infra_failures integer default 10,
  p_orphan_window interval default interval '1 day'
) returns jsonb
language plpgsql
volatile
security definer
-- definer: pg_cron runs jobs as their owner, but a person may call this as service_role to force a sweep; it
-- reads storage.objects and private functions either way.
set search_path = ''
as $$
declare
  _id uuid;
  _obj record;
  _rec record;
  _ids uuid[] := '{}';
  _chunk uuid[];
  _reclaimed integer := 0;
  _gave_up integer := 0;
  _recorded integer := 0;
  _ignored integer := 0;
  _requests integer := 0;
  _not_sent integer := 0;
  _spool_due integer := 0;
  _spool_requested boolean := false;
  _missing integer := 0;
begin
  if not pg_try_advisory_xact_lock(hashtext('private.sweep_conversations')) then
    return jsonb_build_object('skipped', 'another sweep is running');
  end if;

  -- 1. Expired claims. SKIP LOCKED: a row being claimed or finished right now is someone else's business.
  for _id in
    select c.conversation_id from public.conversations c
     where c.processing_status = 'parsing' and c.claimed_until < p_now
     order by c.claimed_until
     limit p_batch
     for update skip locked
  loop
    if private.expire_parse_claim(_id, p_now, p_max_infra_failures) = 'gave_up' then
      _gave_up := _gave_up + 1;
    else
      _reclaimed := _reclaimed + 1;
    end if;
  end loop;

  -- 2. Raw objects the trigger did not record (its recording failed, or the object predates the trigger).
  for _obj in
    select o.bucket_id, o.name, o.owner_id,
           case when o.metadata ->> 'size' ~ '^[0-9]{1,18}$' then (o.metadata ->> 'size')::bigint end as size
      from storage.objects o
      cross join lateral private.raw_object_ids(o.name) ids
      left join public.conversations c on c.conversation_id = ids.conversation_id
     where o.bucket_id = 'conversation-files'
       and o.name like 'raw/%'
       and ids.conversation_id is not null
       and o.created_at <= p_now - p_grace
       and o.created_at > p_now - p_orphan_window
       and (c.conversation_id is null
            or (c.user_id = ids.user_id and c.processing_status in ('generating', 'raw_spooled', 'generation_failed')))
       -- What record_raw_object would ignore for good stays out, so it cannot crowd out the rest of the batch:
       -- no user to own a new row, or uploaded by another user (raw_orphans reports both).
       and (c.conversation_id is not null or private.is_auth_user(ids.user_id))
       and not coalesce(o.owner_id <> ids.user_id::text and o.owner_id ~ '^[0-9a-fA-F-]{36}$'
                        and private.is_auth_user(o.owner_id::uuid), false)
     order by o.created_at
     limit p_batch
  loop
    select * into _rec from private.record_raw_object(_obj.bucket_id, _obj.name, _obj.owner_id, _obj.size, p_now);
    if _rec.outcome in ('created', 'marked') then
      _recorded := _recorded + 1;
      _ids := _ids || _rec.conversation_id;
    else
      _ignored := _ignored + 1;
    end if;
  end loop;

  -- 3. Due raw_stored rows, oldest first. The grace period leaves fresh rows to their own wake-up; a released
  -- row is due when its backoff ends.
  _ids := _ids || array(
    select c.conversation_id from public.conversations c
     where c.processing_status = 'raw_stored'
       and coalesce(c.next_attempt_at, c.raw_stored_at, c.created_at) <= p_now
       and coalesce(c.raw_stored_at, c.created_at) <= p_now - p_grace
       and not (c.conversation_id = any (_ids))
     order by coalesce(c.next_attempt_at, c.raw_stored_at, c.created_at)
     limit greatest(p_batch - coalesce(array_length(_ids, 1), 0), 0)
  );
  for i in 0 .. coalesce(array_length(_ids, 1), 0) - 1 by 50 loop
    _chunk := _ids[i + 1 : i + 50];
    -- 30 s: a batch of 50 takes a few seconds; pg_net only stops waiting, the function finishes regardless.
    if private.invoke_edge_function(
         'parse-conversation',
         jsonb_build_object('conversation_ids', to_jsonb(_chunk), 'source', 'sweeper'),
         30000
       ) is null then
      _not_sent := _not_sent + 1;
    end if;
    _requests := _requests + 1;
  end loop;

  -- 4. The spool.
  select count(*) into _spool_due from public.raw_response_spool s where s.next_attempt_at <= p_now;
  if _spool_due > 0 then
    _spool_requested := true;
    if private.invoke_edge_function('parse-conversation',
                                    jsonb_build_object('flush_spool', true, 'source', 'sweeper'), 60000) is null then
      _not_sent := _not_sent + 1;
    end if;
  end if;

  -- 5. Rows whose raw object is gone, among those still waiting for a parse (the view lists all of them).
  select count(*) into _missing
    from public.conversations c
   where c.processing_status in ('raw_stored', 'parsing')
     and c.raw_response_path is not null
     and c.raw_deleted_at is null
     and not exists (select 1 from storage.objects o
                      where o.bucket_id = 'conversation-files' and o.name = c.raw_response_path);
  if _missing > 0 then
    raise warning 'sweep_conversations: % conversations waiting for a parse have no raw object (see raw_orphans)',
      _missing;
  end if;
  if _not_sent > 0 then
    raise warning 'sweep_conversations: % wake-ups not sent: set the Vault secrets (deno task secrets:sync)',
      _not_sent;
  end if;

  return jsonb_build_object(
    'reclaimed', _reclaimed,
    'gave_up', _gave_up,
    'objects_recorded', _recorded,
    'objects_ignored', _ignored,
    'dispatched', coalesce(array_length(_ids, 1), 0),
    'requests', _requests,
    'requests_not_sent', _not_sent,
    'spool_due', _spool_due,
    'spool_flush_requested', _spool_requested,
    'rows_without_object', _missing
  );
end
$$;

revoke all on function private.sweep_conversations(timestamptz, integer, interval, integer, interval) from public;
grant execute on function private.sweep_conversations(timestamptz, integer, interval, integer, interval)
  to service_role;
