drop function if exists private.reconcile_raw_objects(timestamptz, integer, interval, interval);
drop function if exists private.sweep_conversations(timestamptz, integer, interval, integer);
drop function if exists private.dispatch_parse(uuid[], text);
