-- Down: 20251117000500_create_raw_response_spool.sql.
-- CAUTION: data loss. A spool row is a raw Claude response that exists nowhere else. This script refuses to run
-- while any row is spooled: let the sweeper upload them (or export them) first.
do $$
begin
  if to_regclass('public.raw_response_spool') is not null
     and exists (select 1 from public.raw_response_spool) then
    raise exception 'Cannot drop public.raw_response_spool: % raw responses are still spooled',
      (select count(*) from public.raw_response_spool)
      using errcode = '55000',
            hint = 'Wait for the sweeper to upload them to Storage, or export the rows, then run this again.';
  end if;
end
$$;
drop table if exists public.raw_response_spool;
