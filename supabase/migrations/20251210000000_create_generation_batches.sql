-- Batch generation through Claude's Message Batches API (docs/BATCHES.md):
--
--   public.generation_batches    one row per batch a user submitted: the Anthropic batch id, the request count,
--                                the batch's own state, where its results file is stored (and its sha256), the
--                                budget it reserved, what the collector found
--   conversations.batch_id       the batch a conversation waits in
--   status `batch_queued`        a conversation whose request is in a Message Batch: Claude has not answered yet
--
-- The conversation state machine gains one entry state and two exits, nothing else (docs/PIPELINE.md):
--
--   batch_queued ──► raw_stored          the collector stored the succeeded result as the raw object; the storage
--                                        trigger (on_raw_object_stored, unchanged) marks it, parse takes over
--   batch_queued ──► generation_failed   an errored, canceled or expired result; a result missing from the file;
--                                        a batch Anthropic never accepted
--   batch_queued ──► batch_queued        an expired request re-queued into a new batch (batch_id changes, once)
--
-- The batch's own states (generation_batches.state):
--
--   submitting ──► in_progress ──► canceling ──► ended ──► results_stored ──► collected
--        │              └──────────────────────────┘
--        └──► failed (Anthropic refused or never answered the create call; its conversations generation_failed)

create table if not exists public.generation_batches (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  anthropic_batch_id text unique,
  state text not null default 'submitting' constraint generation_batches_state_check check (state in (
    'submitting', 'in_progress', 'canceling', 'ended', 'results_stored', 'collected', 'failed')),
  request_count integer not null constraint generation_batches_request_count_positive check (request_count > 0),
  model text not null,
  idempotency_key text constraint generation_batches_idempotency_key_length
    check (length(idempotency_key) between 1 and 255),
  request_hash text not null constraint generation_batches_request_hash_format check (request_hash ~ '^[0-9a-f]{64}$'),
  -- The budget reserved at submit (private.reserve_batch), settled once when the batch is collected.
  tokens_reserved bigint not null default 0 check (tokens_reserved >= 0),
  tokens_window_start timestamptz,
  tokens_settled_at timestamptz,
  -- Re-queue generation: 0 for a submitted batch, 1 for the batch that re-queues expired requests of another.
  requeue_of uuid references public.generation_batches (id) on delete set null,
  requeue_depth integer not null default 0 check (requeue_depth >= 0),
  -- Anthropic's request_counts as last read (all `processing` until the whole batch has ended).
  counts jsonb not null default '{}'::jsonb,
  -- The results file, stored raw before anything is split: parts of at most 8 MiB cut at line ends, under
  -- batch-results/{user_id}/{batch id}/{sha256 of the whole file}/part-NNNN.jsonl; results_parts lists
  -- [{path, sha256, size, lines}] in order.
  results_sha256 text constraint generation_batches_results_sha256_format check (results_sha256 ~ '^[0-9a-f]{64}$'),
  results_size bigint check (results_size >= 0),
  results_lines integer check (results_lines >= 0),
  results_parts jsonb,
  -- What the collector found: per result type, plus results missing from the file and lines for no request.
  collected_counts jsonb not null default '{}'::jsonb,
  missing_count integer not null default 0 check (missing_count >= 0),
  unknown_count integer not null default 0 check (unknown_count >= 0),
  last_error text,
  collect_attempts integer not null default 0 check (collect_attempts >= 0),
  submitted_at timestamptz,
  expires_at timestamptz,
  cancel_requested_at timestamptz,
  ended_at timestamptz,
  results_stored_at timestamptz,
  collected_at timestamptz,
  last_polled_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint generation_batches_user_idempotency_key unique (user_id, idempotency_key),
  constraint generation_batches_results_complete check (
    (results_sha256 is null) = (results_parts is null) and (results_sha256 is null) = (results_stored_at is null))
);

comment on table public.generation_batches is
  'Message Batches submitted through generate-batch; the collector (collect-batches) stores and splits results';
comment on column public.generation_batches.state is
  'submitting | in_progress | canceling | ended | results_stored | collected | failed (docs/BATCHES.md)';
comment on column public.generation_batches.results_sha256 is
  'Lowercase hex sha256 of the whole results file as downloaded; its parts are in results_parts';

create or replace trigger on_row_updated before update on public.generation_batches
  for each row execute function private.set_updated_at();

-- The collector's queue: batches not yet collected or failed.
create index if not exists idx_generation_batches_open
  on public.generation_batches (state, last_polled_at)
  where state in ('submitting', 'in_progress', 'canceling', 'ended', 'results_stored');
create index if not exists idx_generation_batches_user_created
  on public.generation_batches (user_id, created_at desc);

alter table public.generation_batches enable row level security;
revoke all on table public.generation_batches from public, anon, authenticated;
grant all on table public.generation_batches to service_role;
grant select on table public.generation_batches to authenticated;
drop policy if exists "users read own batches" on public.generation_batches;
create policy "users read own batches" on public.generation_batches
  for select to authenticated using (user_id = (select auth.uid()));

-- Conversations: the new status and the batch link.
alter table public.conversations
  drop constraint if exists conversations_processing_status_check,
  add constraint conversations_processing_status_check check (processing_status in (
    'generating', 'raw_stored', 'parsing', 'completed', 'parse_failed', 'generation_failed', 'raw_spooled',
    'batch_queued'));
alter table public.conversations
  add column if not exists batch_id uuid references public.generation_batches (id) on delete set null;
comment on column public.conversations.batch_id is
  'The Message Batch this conversation was (last) queued in; null for generate-conversation';
create index if not exists idx_conversations_batch
  on public.conversations (batch_id, processing_status) where batch_id is not null;

-- Provenance: a conversation queued in a batch is Claude's answer to our prompt, like one inserted generating.
create or replace function private.set_conversation_source() returns trigger
language plpgsql
security definer
-- definer: reads storage.objects (the uploader of the object a row is created from) whatever the inserter.
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    new.source := old.source;
    return new;
  end if;
  new.source := case
    when new.processing_status in ('generating', 'batch_queued') then 'generated'
    when new.raw_response_path is not null then
      case when exists (select 1 from storage.objects o
                         where o.bucket_id = 'conversation-files' and o.name = new.raw_response_path
                           and o.owner_id is not null)
           then 'uploaded' else 'recovered' end
    else 'manual'
  end;
  return new;
end
$$;
revoke all on function private.set_conversation_source() from public;

-- The results files: a private bucket of their own (JSONL, not JSON; parts up to 8 MiB, 16 MiB cap). No policy
-- for users: only the service role (the collector) reads and writes it.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values ('batch-results', 'batch-results', false, 16777216, array['application/x-ndjson'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- generate-batch, before anything is written: p_requests request units and p_tokens output tokens (the sum of
-- the requests' max_tokens), both or neither, in one transaction. private.reserve_generation (below) is the
-- one-request case of it.
create or replace function private.reserve_batch(
  p_user uuid,
  p_requests bigint,
  p_tokens bigint,
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
  select * into _req from private.consume_usage(p_user, 'generate_requests_per_minute', p_requests, p_is_service,
    p_now);
  if not _req.allowed then
    allowed := false;
    refused_limit := 'generate_requests_per_minute';
    max_amount := _req.max_amount;
    used := _req.used;
    reset_at := _req.reset_at;
    return;
  end if;
  select * into _tok from private.consume_usage(p_user, 'generate_output_tokens_per_day', p_tokens, p_is_service,
    p_now);
  if not _tok.allowed then
    if _req.charged then
      perform private.release_usage(p_user, 'generate_requests_per_minute', _req.window_start, p_requests);
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

-- generate-conversation's reservation (20251204000000) becomes the one-request case of reserve_batch, so one body
-- holds the rule "both or neither, the request unit given back when the tokens refuse". Same signature, same
-- answers (supabase/tests/database/120_usage_limits.test.sql).
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
language sql
volatile
security definer
set search_path = ''
as $$
  select * from private.reserve_batch(p_user, 1, p_max_tokens, p_is_service, p_now);
$$;

-- A batch whose create call never reached Anthropic's answer (the worker died between the insert and the
-- recording of the Anthropic id) stays `submitting`. After p_after it is failed with its conversations, so
-- nothing waits forever; the collector calls this on every run. Returns the batches it failed.
create or replace function private.fail_stale_batch_submits(
  p_after interval default interval '15 minutes',
  p_now timestamptz default now()
) returns table (batch_id uuid, conversations integer)
language plpgsql
volatile
security definer
set search_path = ''
as $$
#variable_conflict use_column
declare
  _b record;
  _n integer;
begin
  for _b in
    update public.generation_batches g
       set state = 'failed',
           last_error = 'Anthropic never confirmed the batch: the submitting worker stopped before recording it'
     where g.state = 'submitting' and g.anthropic_batch_id is null and g.created_at < p_now - p_after
    returning g.id
  loop
    update public.conversations c
       set processing_status = 'generation_failed',
           generation_error = 'batch_not_submitted: the batch was never confirmed by Anthropic'
     where c.batch_id = _b.id and c.processing_status = 'batch_queued';
    get diagnostics _n = row_count;
    batch_id := _b.id;
    conversations := _n;
    return next;
  end loop;
end
$$;

revoke all on function private.reserve_batch(uuid, bigint, bigint, boolean, timestamptz) from public;
revoke all on function private.fail_stale_batch_submits(interval, timestamptz) from public;
grant execute on function private.reserve_batch(uuid, bigint, bigint, boolean, timestamptz),
  private.fail_stale_batch_submits(interval, timestamptz) to service_role;

-- The collector runs every minute (pg_cron 1.4: minute schedules only), like the monitor through
-- private.invoke_edge_function, but only while a batch is open (no wake-up a minute for nothing); nothing is
-- sent while the Vault secrets are missing. Guarded like the other schedules where pg_cron is absent.
do $$
begin
  if exists (select 1 from pg_namespace where nspname = 'cron') then
    perform cron.schedule(
      'collect-batches',
      '* * * * *',
      $job$select private.invoke_edge_function('collect-batches', '{}'::jsonb, 150000)
             where exists (select 1 from public.generation_batches
                            where state in ('submitting', 'in_progress', 'canceling', 'ended', 'results_stored'))$job$
    );
  else
    raise notice 'schema cron does not exist: collect-batches is not scheduled';
  end if;
end
$$;
