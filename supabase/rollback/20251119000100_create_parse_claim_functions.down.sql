drop function if exists private.defer_spooled_raw(uuid, text, timestamptz, interval, interval);
drop function if exists private.finish_spooled_raw(uuid, text);
drop function if exists private.lease_spooled_raw(integer, timestamptz, interval);
drop function if exists private.release_parse_claim(uuid, integer, text, text, text, numeric, text, timestamptz,
  interval, interval, integer);
drop function if exists private.fail_parse(uuid, integer, text, text, text, text, text, boolean, jsonb, text, text,
  jsonb, numeric, text, timestamptz);
drop function if exists private.complete_parse(uuid, integer, text, text, integer, text, bigint, text, text, text,
  jsonb, numeric, text, timestamptz);
drop function if exists private.claim_conversation(uuid, timestamptz, interval, integer);
drop function if exists private.expire_parse_claim(uuid, timestamptz, integer);
drop function if exists private.give_up_parse(uuid, integer, text);
drop function if exists private.count_parse_infra_failures(uuid);
