-- Back to the backoff of 20251119000100 (counting upload_attempts), then drop the counter.
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
set search_path = ''
as $$
  update public.raw_response_spool s
     set last_error = left(p_error, 2000),
         next_attempt_at = p_now + least(p_backoff_cap,
                                          p_backoff_base * power(2, least(greatest(s.upload_attempts - 1, 0), 20)))
   where s.conversation_id = p_conversation_id
  returning s.next_attempt_at
$$;
alter table public.raw_response_spool drop column if exists flush_failures;
