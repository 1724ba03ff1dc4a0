-- The sweeper: the database is the queue and HTTP is only the wake-up call (pg_net never retries and loses its
-- queue on a crash), so pg_cron runs two jobs (scheduled in 20251119000400_schedule_conversation_sweeper.sql):
--
-- private.sweep_conversations(), every minute — index-only work on the queue:
--   1. expired claims       parsing rows whose lease ended: the attempt is logged as claim_expired and the row
--                           becomes claimable again (or goes to review after too many such attempts in a row)
--   2. due raw_stored rows  rows whose wake-up is overdue (stored more than the grace period ago, or released with
--                           a backoff that has ended): posted as {conversation_ids: [...]} in requests of ≤ 50
--   3. the spool            when raw_response_spool has due rows: {flush_spool: true} (the function uploads them;
--                           the trigger then marks each row raw_stored and wakes its parse)
--   4. the orphan report    counts rows waiting for a parse whose raw object is missing, and warns
--
-- private.reconcile_raw_objects(), every 10 minutes — the one scan of storage.objects: raw objects the trigger did
-- not record (its recording failed, or the object predates the trigger), newer than p_window, are recorded with
-- private.record_raw_object (the trigger's own rules) and woken. Kept apart because it reads every raw object
-- (about 0.3 s at a million objects), which is too much for every minute and plenty every ten.
--
-- Batches are bounded (p_batch; default 200 = four requests of 50 per minute, so 1,000 lost wake-ups drain in
-- about five minutes while each request stays far inside the function's limits). Both return a jsonb summary
-- (also useful by hand: `select private.sweep_conversations();`). Time is a parameter so tests can move it
-- instead of sleeping. Runs of the same job never overlap (a transaction-level advisory lock).

-- Posts conversation ids to parse-conversation in requests of at most 50 (the function's limit).
create or replace function private.dispatch_parse(
  p_ids uuid[],
  p_source text,
  out requests integer,
  out not_sent integer
)
language plpgsql
volatile
set search_path = ''
as $$
begin
  requests := 0;
  not_sent := 0;
  for i in 0 .. coalesce(array_length(p_ids, 1), 0) - 1 by 50 loop
    -- 30 s: a batch of 50 takes a few seconds; pg_net only stops waiting, the function finishes regardless.
    if private.invoke_edge_function(
         'parse-conversation',
         jsonb_build_object('conversation_ids', to_jsonb(p_ids[i + 1 : i + 50]), 'source', p_source),
         30000
       ) is null then
      not_sent := not_sent + 1;
    end if;
    requests := requests + 1;
  end loop;
end
$$;

create or replace function private.sweep_conversations(
  p_now timestamptz default now(),
  p_batch integer default 200,
  p_grace interval default interval '30 seconds',
  p_max_infra_failures integer default 10
) returns jsonb
language plpgsql
volatile
security definer
-- definer: pg_cron runs jobs as their owner, but a person may call this as service_role to force a sweep; it
-- calls private functions and reads storage.objects either way.
set search_path = ''
as $$
declare
  _id uuid;
  _ids uuid[];
  _reclaimed integer := 0;
  _gave_up integer := 0;
  _dispatch record;
  _spool_due integer := 0;
  _spool_not_sent integer := 0;
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

  -- 2. Due raw_stored rows, oldest first. The grace period leaves fresh rows to their own wake-up; a released
  -- row is due when its backoff ends; a reclaimed row at once.
  _ids := array(
    select c.conversation_id from public.conversations c
     where c.processing_status = 'raw_stored'
       and coalesce(c.next_attempt_at, c.raw_stored_at, c.created_at) <= p_now
       and (coalesce(c.raw_stored_at, c.created_at) <= p_now - p_grace or c.parse_attempts > 0)
     order by coalesce(c.next_attempt_at, c.raw_stored_at, c.created_at)
     limit p_batch
  );
  select * into _dispatch from private.dispatch_parse(_ids, 'sweeper');

  -- 3. The spool.
  select count(*) into _spool_due from public.raw_response_spool s where s.next_attempt_at <= p_now;
  if _spool_due > 0
     and private.invoke_edge_function('parse-conversation',
                                      jsonb_build_object('flush_spool', true, 'source', 'sweeper'), 60000) is null then
    _spool_not_sent := 1;
  end if;

  -- 4. Rows whose raw object is gone, among those still waiting for a parse (raw_orphans lists all of them).
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
  if _dispatch.not_sent + _spool_not_sent > 0 then
    raise warning 'sweep_conversations: % wake-ups not sent: set the Vault secrets (deno task secrets:sync)',
      _dispatch.not_sent + _spool_not_sent;
  end if;

  return jsonb_build_object(
    'reclaimed', _reclaimed,
    'gave_up', _gave_up,
    'dispatched', coalesce(array_length(_ids, 1), 0),
    'requests', _dispatch.requests,
    'requests_not_sent', _dispatch.not_sent + _spool_not_sent,
    'spool_due', _spool_due,
    'spool_flush_requested', _spool_due > 0,
    'rows_without_object', _missing
  );
end
$$;

create or replace function private.reconcile_raw_objects(
  p_now timestamptz default now(),
  p_batch integer default 500,
  p_grace interval default interval '30 seconds',
  p_window interval default interval '1 day'
) returns jsonb
language plpgsql
volatile
security definer
-- definer: see sweep_conversations.
set search_path = ''
as $$
declare
  _obj record;
  _rec record;
  _ids uuid[] := '{}';
  _ignored integer := 0;
  _dispatch record;
begin
  if not pg_try_advisory_xact_lock(hashtext('private.reconcile_raw_objects')) then
    return jsonb_build_object('skipped', 'another reconciliation is running');
  end if;
  -- Objects past the grace period (their trigger has had its chance) and inside the window (the scan stays
  -- small; widen p_window by hand for older ones). MATERIALIZED: the names are parsed only for objects in the
  -- window, never for the whole bucket.
  for _obj in
    with recent as materialized (
      select o.bucket_id, o.name, o.owner_id, o.created_at,
             case when o.metadata ->> 'size' ~ '^[0-9]{1,18}$' then (o.metadata ->> 'size')::bigint end as size
        from storage.objects o
       where o.bucket_id = 'conversation-files'
         and o.name like 'raw/%'
         and o.created_at <= p_now - p_grace
         and o.created_at > p_now - p_window
    )
    select r.bucket_id, r.name, r.owner_id, r.size
      from recent r
      -- LATERAL with LIMIT (which keeps the planner from flattening it into a hash join over every
      -- conversation): one index probe per object in the window.
      left join lateral (select c1.conversation_id, c1.user_id, c1.processing_status
                           from public.conversations c1
                          where c1.conversation_id = private.raw_object_conversation_id(r.name)
                          limit 1) c on true
     where private.raw_object_conversation_id(r.name) is not null
       and (c.conversation_id is null
            or (c.user_id = private.raw_object_user_id(r.name)
                and c.processing_status in ('generating', 'raw_spooled', 'generation_failed')))
       -- What record_raw_object would ignore for good stays out, so it cannot crowd out the rest of the batch:
       -- no user to own a new row, or uploaded by another user (raw_orphans reports both).
       and not private.is_forged_raw_upload(r.name, r.owner_id)
       and (c.conversation_id is not null or private.is_auth_user(private.raw_object_user_id(r.name)))
     order by r.created_at
     limit p_batch
  loop
    select * into _rec from private.record_raw_object(_obj.bucket_id, _obj.name, _obj.owner_id, _obj.size, p_now);
    if _rec.outcome in ('created', 'marked') then
      _ids := _ids || _rec.conversation_id;
    else
      _ignored := _ignored + 1;
    end if;
  end loop;
  select * into _dispatch from private.dispatch_parse(_ids, 'sweeper');
  if coalesce(array_length(_ids, 1), 0) > 0 then
    raise warning 'reconcile_raw_objects: recorded % raw objects the storage trigger had not recorded',
      array_length(_ids, 1);
  end if;
  return jsonb_build_object(
    'objects_recorded', coalesce(array_length(_ids, 1), 0),
    'objects_ignored', _ignored,
    'requests', _dispatch.requests,
    'requests_not_sent', _dispatch.not_sent
  );
end
$$;

revoke all on function private.dispatch_parse(uuid[], text) from public;
revoke all on function private.sweep_conversations(timestamptz, integer, interval, integer) from public;
revoke all on function private.reconcile_raw_objects(timestamptz, integer, interval, interval) from public;
grant execute on function private.sweep_conversations(timestamptz, integer, interval, integer) to service_role;
grant execute on function private.reconcile_raw_objects(timestamptz, integer, interval, interval) to service_role;
