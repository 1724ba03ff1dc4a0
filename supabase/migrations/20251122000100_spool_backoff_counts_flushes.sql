-- The spool's retry backoff counted upload_attempts, which already includes generate-conversation's own upload
-- attempts (four by default) before the bytes were spooled: the first failed flush then deferred 480 s instead
-- of 30 s, so spooled responses sat for minutes after Storage came back (found by the fault suite,
-- docs/FAULTS.md). The backoff now counts the sweeper's flush failures alone; upload_attempts keeps counting
-- every upload for the record.
alter table public.raw_response_spool
  add column if not exists flush_failures integer not null default 0;

comment on column public.raw_response_spool.flush_failures is
  'Failed sweeper flushes of this spooled response; the retry backoff is 30 s · 2^flush_failures, capped';

create or replace function private.defer_spooled_raw(
  p_conversation_id uuid,
  p_error text,
  p_now timestamptz default now(),
  p_backoff_base interval default interval '30 seconds',
  p_backoff_cap interval default interval '30 minutes'
) returns timestamptz
language sql
volatile
security definer
-- definer: see lease_spooled_raw (20251119000100).
set search_path = ''
as $$
  update public.raw_response_spool s
     set last_error = left(p_error, 2000),
         flush_failures = s.flush_failures + 1,
         next_attempt_at = p_now + least(p_backoff_cap, p_backoff_base * power(2, least(s.flush_failures, 20)))
   where s.conversation_id = p_conversation_id
  returning s.next_attempt_at
$$;
