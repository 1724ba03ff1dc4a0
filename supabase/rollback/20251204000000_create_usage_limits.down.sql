-- Removes the per-user budgets and rate limits: the upload charge on storage.objects, the functions and both
-- tables. CAUTION: per-user limit rows an operator set are lost; keep `select * from private.usage_limits` first.
drop trigger if exists charge_raw_upload on storage.objects;
drop function if exists private.charge_raw_upload();
drop function if exists private.reserve_generation(uuid, bigint, boolean, timestamptz);
drop function if exists private.release_usage(uuid, text, timestamptz, bigint);
drop function if exists private.consume_usage(uuid, text, bigint, boolean, timestamptz);
drop function if exists private.usage_window_start(text, timestamptz);
drop function if exists private.usage_window(text);
drop table if exists private.usage_counters;
drop table if exists private.usage_limits;
