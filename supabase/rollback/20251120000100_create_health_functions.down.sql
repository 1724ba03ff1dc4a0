-- Removes the monitor's health functions.
drop function if exists private.health_overview(timestamptz);
drop function if exists private.health_rule_values(timestamptz);
drop function if exists private.minutes_since(timestamptz, timestamptz);
drop function if exists private.stuck_conversations(text, interval, timestamptz);
drop function if exists private.rule_window(text, integer);
