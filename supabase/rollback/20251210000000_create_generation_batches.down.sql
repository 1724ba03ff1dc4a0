-- Removes batch generation: the collector's schedule, the batch functions, conversations.batch_id, the
-- `batch_queued` status and public.generation_batches. Refuses while a conversation is still batch_queued (its
-- answer is still at Anthropic: collect or fail it first, docs/BATCHES.md "Recover by hand"). The batch-results
-- bucket is dropped only when empty: stored results files are kept.
do $$
declare
  _n bigint;
begin
  select count(*) into _n from public.conversations where processing_status = 'batch_queued';
  if _n > 0 then
    raise exception 'Cannot roll back 20251210000000: % conversations are batch_queued', _n
      using errcode = '55000',
            hint = 'Collect their batches (deno task batch collect) or fail them (docs/BATCHES.md), then run this again.';
  end if;
  -- Nested: the inner query is planned only where cron.job exists.
  if to_regclass('cron.job') is not null then
    if exists (select 1 from cron.job where jobname = 'collect-batches') then
      perform cron.unschedule('collect-batches');
    end if;
  end if;
end
$$;

drop function if exists private.fail_stale_batch_submits(interval, timestamptz);
-- reserve_generation as 20251204000000 wrote it, before the function it now calls goes.
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

drop function if exists private.reserve_batch(uuid, bigint, bigint, boolean, timestamptz);

-- Provenance as 20251204000100 left it.
create or replace function private.set_conversation_source() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    new.source := old.source;
    return new;
  end if;
  -- (In parentheses: cli/rollback.ts drops lines that are only `end;`, taking them for transaction control.)
  new.source := (case
    when new.processing_status = 'generating' then 'generated'
    when new.raw_response_path is not null then
      case when exists (select 1 from storage.objects o
                         where o.bucket_id = 'conversation-files' and o.name = new.raw_response_path
                           and o.owner_id is not null)
           then 'uploaded' else 'recovered' end
    else 'manual'
  end);
  return new;
end
$$;
revoke all on function private.set_conversation_source() from public;

drop index if exists public.idx_conversations_batch;
alter table public.conversations drop column if exists batch_id;
alter table public.conversations
  drop constraint if exists conversations_processing_status_check,
  add constraint conversations_processing_status_check check (processing_status in (
    'generating', 'raw_stored', 'parsing', 'completed', 'parse_failed', 'generation_failed', 'raw_spooled'));
drop table if exists public.generation_batches;

do $$
begin
  if exists (select 1 from storage.objects where bucket_id = 'batch-results') then
    raise notice 'bucket batch-results still holds results files: kept';
  else
    -- storage.buckets refuses direct deletes unless the Storage API's own flag is set for the transaction.
    perform set_config('storage.allow_delete_query', 'true', true);
    delete from storage.buckets where id = 'batch-results';
  end if;
end
$$;
