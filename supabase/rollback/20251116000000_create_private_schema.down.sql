-- Down: 20251116000000_create_private_schema.sql. The schema is dropped only when empty (RESTRICT): later
-- migrations keep their own helpers in it and must be rolled back first.
drop function if exists private.set_updated_at();
alter default privileges in schema private grant execute on functions to public;
revoke usage on schema private from service_role, authenticated;
drop schema if exists private;
