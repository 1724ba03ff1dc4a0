-- Per-user budgets and rate limits (docs/SECURITY.md, "Budgets and rate limits"):
--
--   generate_requests_per_minute     POST /generate-conversation calls that reach the flow (one unit each)
--   generate_output_tokens_per_day   output tokens: max_tokens reserved before the Claude call, settled to the
--                                    real usage after it (released in full when no answer came back)
--   raw_uploads_per_hour             objects a user uploads to conversation-files/raw/
--   raw_upload_bytes_per_day         bytes of those objects
--
-- private.usage_limits holds the limits: one row per limit with user_id null (everyone), plus optional rows for
-- one user that override it. max_amount null = unlimited. The service role (the service key acting for a user
-- with x-user-id, and every upload without an uploading user) is exempt unless the effective row says
-- applies_to_service. The table lives in `private`, like the rest of the operators' knobs that clients must not
-- even see through the Data API; operators change it with SQL (examples in docs/SECURITY.md).
--
-- private.usage_counters holds one row per (user, limit): the current fixed window (UTC minute, hour or day) and
-- what was used in it. private.consume_usage charges a unit in ONE statement (insert … on conflict do update …
-- where used + amount <= max): two concurrent requests serialise on the row lock and the second re-checks the
-- updated row, so they cannot both pass the last unit. A refusal writes nothing.

create table if not exists private.usage_limits (
  id bigint generated always as identity primary key,
  limit_name text not null check (limit_name in (
    'generate_requests_per_minute', 'generate_output_tokens_per_day', 'raw_uploads_per_hour',
    'raw_upload_bytes_per_day')),
  -- null: the default for every user; a user's own row overrides it for that user
  user_id uuid references auth.users (id) on delete cascade,
  -- null: unlimited
  max_amount bigint check (max_amount >= 0),
  -- false: calls made with the service key are not counted (the default: the service is trusted)
  applies_to_service boolean not null default false,
  description text not null default '',
  updated_at timestamptz not null default now(),
  constraint usage_limits_one_row_per_user unique nulls not distinct (limit_name, user_id)
);

comment on table private.usage_limits is
  'Per-user budgets and rate limits; user_id null = everyone, a user''s row overrides (docs/SECURITY.md)';

create or replace trigger on_row_updated before update on private.usage_limits
  for each row execute function private.set_updated_at();

-- Defaults: generous for a person or a script generating a batch, tight enough that one account cannot run
-- up more than about $30 of output a day (Sonnet output at $15 per million tokens) or fill the review queue.
-- `do nothing` on conflict: re-applying this file never undoes an operator's change.
insert into private.usage_limits (limit_name, user_id, max_amount, description)
values
  ('generate_requests_per_minute', null, 60, 'generate-conversation requests per user per UTC minute'),
  ('generate_output_tokens_per_day', null, 2000000,
   'output tokens per user per UTC day: max_tokens reserved before the call, settled to the real usage'),
  ('raw_uploads_per_hour', null, 20, 'objects a user uploads to conversation-files/raw/ per UTC hour'),
  ('raw_upload_bytes_per_day', null, 104857600, 'bytes a user uploads to conversation-files/raw/ per UTC day')
on conflict on constraint usage_limits_one_row_per_user do nothing;

-- UNLOGGED (docs/SECURITY.md, "Cost"): a transaction that writes only this table writes no WAL, so its commit
-- does not wait for a WAL flush — on a busy disk that flush is most of a reservation's cost (about 2-3 ms of
-- fsync per write transaction measured here, against under 1 ms for the statement itself). The price: after a
-- database crash (not a clean restart) the table starts empty, i.e. every user's current windows are forgiven
-- once. Counters are not worth a durable write per request; the limits themselves (usage_limits) are logged.
create unlogged table if not exists private.usage_counters (
  user_id uuid not null,
  limit_name text not null,
  window_start timestamptz not null,
  used bigint not null check (used >= 0),
  primary key (user_id, limit_name)
);

comment on table private.usage_counters is
  'What each user used of each limit in its current window (private.consume_usage, docs/SECURITY.md)';

alter table private.usage_limits enable row level security;
alter table private.usage_counters enable row level security;
revoke all on table private.usage_limits, private.usage_counters from public, anon, authenticated;
grant all on table private.usage_limits, private.usage_counters to service_role;

-- The window of a limit: its length, fixed by its name.
create or replace function private.usage_window(p_limit text) returns interval
language sql
immutable
parallel safe
set search_path = ''
as $$
  select case p_limit
           when 'generate_requests_per_minute' then interval '1 minute'
           when 'generate_output_tokens_per_day' then interval '1 day'
           when 'raw_uploads_per_hour' then interval '1 hour'
           when 'raw_upload_bytes_per_day' then interval '1 day'
         end
$$;

-- The start of the window that contains p_now (UTC-aligned, whatever the session's TimeZone).
create or replace function private.usage_window_start(p_limit text, p_now timestamptz) returns timestamptz
language sql
immutable
parallel safe
set search_path = ''
as $$
  select date_trunc(
           case p_limit when 'generate_requests_per_minute' then 'minute'
                        when 'raw_uploads_per_hour' then 'hour'
                        else 'day' end,
           p_now at time zone 'UTC') at time zone 'UTC'
$$;

-- Charges p_amount of one limit to a user, or refuses. allowed: true when charged or exempt; charged: whether a
-- counter moved (only then is there anything to settle); max_amount/used/reset_at describe the window (used is
-- the amount after the charge, or the amount that made the refusal).
create or replace function private.consume_usage(
  p_user uuid,
  p_limit text,
  p_amount bigint,
  p_is_service boolean default false,
  p_now timestamptz default now(),
  out allowed boolean,
  out charged boolean,
  out max_amount bigint,
  out used bigint,
  out window_start timestamptz,
  out reset_at timestamptz
)
language plpgsql
volatile
security definer
-- definer: the storage trigger calls this as the uploading role (authenticated, or service_role).
set search_path = ''
as $$
#variable_conflict use_variable
declare
  _applies boolean;
begin
  select l.max_amount, l.applies_to_service into max_amount, _applies
    from private.usage_limits l
   where l.limit_name = p_limit and (l.user_id = p_user or l.user_id is null)
   order by l.user_id nulls last
   limit 1;
  window_start := private.usage_window_start(p_limit, p_now);
  reset_at := window_start + private.usage_window(p_limit);
  charged := false;
  if not found or max_amount is null or (p_is_service and not _applies) or p_user is null then
    allowed := true;
    return;
  end if;
  -- The one statement that decides. A row from an earlier window counts as empty and is moved to this window.
  insert into private.usage_counters as c (user_id, limit_name, window_start, used)
  select p_user, p_limit, window_start, p_amount
   where p_amount <= max_amount
  on conflict on constraint usage_counters_pkey do update
     set window_start = excluded.window_start,
         used = case when c.window_start = excluded.window_start then c.used else 0 end + excluded.used
   where case when c.window_start = excluded.window_start then c.used else 0 end + excluded.used <= max_amount
  returning c.used into used;
  if found then
    allowed := true;
    charged := true;
    return;
  end if;
  allowed := false;
  select case when c.window_start = window_start then c.used else 0 end + p_amount into used
    from private.usage_counters c
   where c.user_id = p_user and c.limit_name = p_limit;
  used := coalesce(used, p_amount);
end
$$;

-- Gives back part of a charge (a settled reservation, a released one). Only the window it was charged in: once
-- that window has passed, there is nothing to give back.
create or replace function private.release_usage(
  p_user uuid,
  p_limit text,
  p_window_start timestamptz,
  p_amount bigint
) returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update private.usage_counters c
     set used = greatest(0, c.used - p_amount)
   where c.user_id = p_user and c.limit_name = p_limit and c.window_start = p_window_start and p_amount > 0
$$;

-- generate-conversation, before the Claude call: one request unit and max_tokens output tokens, both or neither.
-- refused_limit names the limit that refused (null when allowed); tokens_charged says whether a token
-- reservation exists to settle (false when exempt or unlimited). One round trip, one transaction.
create or replace function private.reserve_generation(
  p_user uuid,
  p_max_tokens bigint,
  p_is_service boolean default false,
  p_now timestamptz default now(),
  out allowed boolean,
  out refused_limit text,
  out max_amount bigint,
  out used bigint,
  out reset_at timestamptz,
  out tokens_charged boolean,
  out tokens_window_start timestamptz
)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  _req record;
  _tok record;
begin
  tokens_charged := false;
  select * into _req from private.consume_usage(p_user, 'generate_requests_per_minute', 1, p_is_service, p_now);
  if not _req.allowed then
    allowed := false;
    refused_limit := 'generate_requests_per_minute';
    max_amount := _req.max_amount;
    used := _req.used;
    reset_at := _req.reset_at;
    return;
  end if;
  select * into _tok from private.consume_usage(p_user, 'generate_output_tokens_per_day', p_max_tokens,
    p_is_service, p_now);
  if not _tok.allowed then
    -- Give the request unit back: a refused request costs nothing. The row is still locked by this transaction.
    if _req.charged then
      perform private.release_usage(p_user, 'generate_requests_per_minute', _req.window_start, 1);
    end if;
    allowed := false;
    refused_limit := 'generate_output_tokens_per_day';
    max_amount := _tok.max_amount;
    used := _tok.used;
    reset_at := _tok.reset_at;
    return;
  end if;
  allowed := true;
  tokens_charged := _tok.charged;
  tokens_window_start := _tok.window_start;
end
$$;

-- The storage side: every object a user uploads to conversation-files/raw/ is charged to the uploader, in the
-- object row's own transaction (BEFORE INSERT on storage.objects). It holds for every path into Storage — the
-- functions, supabase-js, the Storage REST API — because all of them write storage.objects.
--
-- The uploader is the row's owner_id: the JWT sub the Storage API records (its permission probe runs as the
-- user, the real write as service_role with owner_id = the user; the probe's charge is rolled back with it).
-- Service-key uploads have no owner_id and are never charged.
--
-- Unlike on_raw_object_stored (total: bookkeeping must never fail an upload) this trigger exists to refuse: over
-- a limit it raises SQLSTATE 42501 with the limit and its reset in the message and a HINT. storage-api maps 42501
-- to AccessDenied and passes a message that is not an RLS message through, so the client reads
-- `{"statusCode":"403","error":"Unauthorized","message":"Cannot upload: raw_uploads_per_hour limit …"}`.
-- Anything else that goes wrong here (an odd size) charges what can be known and never raises.
create or replace function private.charge_raw_upload() returns trigger
language plpgsql
security definer
-- definer: the writer (authenticated, or service_role) cannot write the counters.
set search_path = ''
as $$
declare
  _user uuid;
  _size bigint;
  _count record;
  _bytes record;
  _refused record;
  _limit text;
begin
  if new.owner_id is null
     or new.owner_id !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' then
    return new;
  end if;
  _user := new.owner_id::uuid;
  _size := coalesce(
    case when new.metadata ->> 'size' ~ '^[0-9]{1,18}$' then (new.metadata ->> 'size')::bigint end,
    case when new.metadata ->> 'contentLength' ~ '^[0-9]{1,18}$' then (new.metadata ->> 'contentLength')::bigint end,
    0);
  select * into _count from private.consume_usage(_user, 'raw_uploads_per_hour', 1, false, now());
  if _count.allowed then
    select * into _bytes from private.consume_usage(_user, 'raw_upload_bytes_per_day', _size, false, now());
    if _bytes.allowed then
      return new;
    end if;
    _refused := _bytes;
    _limit := 'raw_upload_bytes_per_day';
  else
    _refused := _count;
    _limit := 'raw_uploads_per_hour';
  end if;
  raise exception using
    errcode = '42501',
    message = format('Cannot upload: %s limit reached (%s allowed, %s requested in this window); it resets at %s',
      _limit, _refused.max_amount, _refused.used,
      to_char(_refused.reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
    hint = format('usage_limit=%s reset_at=%s', _limit,
      to_char(_refused.reset_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
end
$$;

drop trigger if exists charge_raw_upload on storage.objects;
create trigger charge_raw_upload
  before insert on storage.objects
  for each row
  when (new.bucket_id = 'conversation-files' and new.name like 'raw/%' and new.owner_id is not null)
  execute function private.charge_raw_upload();

revoke all on function private.usage_window(text) from public;
revoke all on function private.usage_window_start(text, timestamptz) from public;
revoke all on function private.consume_usage(uuid, text, bigint, boolean, timestamptz) from public;
revoke all on function private.release_usage(uuid, text, timestamptz, bigint) from public;
revoke all on function private.reserve_generation(uuid, bigint, boolean, timestamptz) from public;
revoke all on function private.charge_raw_upload() from public;
grant execute on function private.usage_window(text), private.usage_window_start(text, timestamptz),
  private.consume_usage(uuid, text, bigint, boolean, timestamptz),
  private.release_usage(uuid, text, timestamptz, bigint),
  private.reserve_generation(uuid, bigint, boolean, timestamptz) to service_role;
