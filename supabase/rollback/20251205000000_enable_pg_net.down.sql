-- Keeps pg_net: other features of the project (database webhooks, other cron jobs) may use it, and dropping it
-- would discard queued requests. Nothing to undo.
select 1;
