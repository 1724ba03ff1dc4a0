-- Reverses 20251211000000_record_recovered_answer.sql: deno task recover then cannot record the logged metadata.
drop function if exists private.record_recovered_answer(uuid, text, text, text, integer, integer, numeric, boolean);
