-- deno task recover (cli/recover.ts, docs/RUNBOOK.md "Recovering answers from the function logs") stores an
-- answer the log-ahead logged for a worker that died before the write-ahead committed. Before the upload it
-- records on the row what the write-ahead would have recorded (sha256, stop_reason, model, tokens, cost,
-- truncated), so the parse verifies the bytes against the logged sha256 and the row's usage is the billed one.
-- Only for a row that still needs it: `generating`, or `generation_failed` with `worker_lost`, with no raw
-- object recorded, and no other sha256 recorded. Returns false (and changes nothing) otherwise; recover then
-- skips the upload. The status and generation_error_code are left to the storage trigger (20251119000000) and
-- 20251203000100, which move the row on and clear `worker_lost` when the object arrives.
create or replace function private.record_recovered_answer(
  p_conversation_id uuid,
  p_raw_sha256 text,
  p_stop_reason text,
  p_model text,
  p_input_tokens integer,
  p_output_tokens integer,
  p_cost_usd numeric,
  p_truncated boolean
) returns boolean
language plpgsql
volatile
security definer
-- definer: recover runs with the service role; the row's generation columns are not the caller's to write.
set search_path = ''
as $$
begin
  if p_raw_sha256 is null or p_raw_sha256 !~ '^[0-9a-f]{64}$' then
    raise exception 'record_recovered_answer: raw sha256 must be 64 lowercase hex characters'
      using errcode = '22023';
  end if;
  update public.conversations c
     set raw_sha256 = p_raw_sha256,
         stop_reason = coalesce(c.stop_reason, p_stop_reason),
         model = coalesce(p_model, c.model),
         input_tokens = coalesce(c.input_tokens, p_input_tokens),
         output_tokens = coalesce(c.output_tokens, p_output_tokens),
         cost_usd = coalesce(c.cost_usd, p_cost_usd),
         truncated = c.truncated or coalesce(p_truncated, false)
   where c.conversation_id = p_conversation_id
     and c.raw_response_path is null
     and (c.raw_sha256 is null or c.raw_sha256 = p_raw_sha256)
     and (c.processing_status = 'generating'
          or (c.processing_status = 'generation_failed' and c.generation_error_code = 'worker_lost'));
  return found;
end
$$;

revoke all on function private.record_recovered_answer(uuid, text, text, text, integer, integer, numeric, boolean)
  from public;
grant execute on function
  private.record_recovered_answer(uuid, text, text, text, integer, integer, numeric, boolean) to service_role;
