-- A generation closed as worker_lost (20251203000000) whose raw object arrives after all — an upload that
-- landed long after its worker was gone, seen 5–19 s late after a PostgreSQL restart — is moved on by the storage
-- trigger like any generation_failed row (20251119000000). It was not lost then: the code is cleared (so the
-- monitor's answers_lost and a reader of generation_error_code never count it) and the note says what happened.
create or replace function private.clear_recovered_worker_loss() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.generation_error_code := null;
  new.generation_error := coalesce(old.generation_error || '; ', '')
    || 'recovered: the raw object arrived after the row was closed as worker_lost, so nothing was lost';
  return new;
end
$$;

revoke all on function private.clear_recovered_worker_loss() from public;

drop trigger if exists on_worker_loss_recovered on public.conversations;
create trigger on_worker_loss_recovered
  before update of processing_status on public.conversations
  for each row
  when (old.generation_error_code = 'worker_lost' and old.processing_status = 'generation_failed'
        and new.processing_status is distinct from 'generation_failed')
  execute function private.clear_recovered_worker_loss();
