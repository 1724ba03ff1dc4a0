-- Removes the alert state transition functions (the alerts table goes with 20251120000000's down script).
drop function if exists private.record_alert_delivery(bigint, integer, boolean, text, boolean, timestamptz);
drop function if exists private.claim_alert_notices(integer, interval, interval, timestamptz);
drop function if exists private.resolve_alert(bigint, numeric, jsonb, timestamptz);
drop function if exists private.escalate_alert(bigint, numeric, numeric, jsonb, timestamptz);
drop function if exists private.track_alert(bigint, numeric, numeric, jsonb, boolean, timestamptz);
drop function if exists private.open_alert(text, text, numeric, numeric, jsonb, timestamptz);
drop function if exists private.lock_health_monitor();
