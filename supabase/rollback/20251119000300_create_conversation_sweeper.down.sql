drop function if exists private.sweep_conversations(timestamptz, integer, interval, integer, interval);
