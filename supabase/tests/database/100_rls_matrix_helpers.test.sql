-- Helpers for the RLS matrix files (101 tables and views, 105 storage paths), installed and committed here like
-- 000's helpers, so each matrix file holds only its fixture, its expectations and the generated assertions.
begin;
set local client_min_messages = warning;

-- Runs p_sql as p_actor and names the outcome, in a subtransaction that is always rolled back (a custom
-- SQLSTATE carries the row count out of it), so the attempts of a matrix never see each other's writes and the
-- role and claims revert afterwards. p_actor: 'anon', 'service_role', or a test user's identifier
-- (tests.create_supabase_user), authenticated exactly as PostgREST and the Storage API do it.
--
--   ok          succeeded and returned or changed at least one row
--   none        succeeded but saw no row (RLS filtered the target out)
--   denied      SQLSTATE 42501: no privilege, or a row-level-security WITH CHECK refusal
--   read_only   SQLSTATE 55000: an aggregating view is not updatable (for anyone, the owner included)
--   error:XXXXX any other SQLSTATE, never expected: a failed cell then shows the code
create or replace function tests.rls_attempt(p_actor text, p_sql text) returns text
language plpgsql
as $$
declare
  _rows text;
begin
  begin
    case p_actor
      when 'anon' then perform tests.clear_authentication();
      when 'service_role' then perform tests.authenticate_as_service_role();
      else perform tests.authenticate_as(p_actor);
    end case;
    -- The Storage API sets this for its removes (the delete guard on storage tables); harmless elsewhere.
    perform set_config('storage.allow_delete_query', 'true', true);
    execute p_sql;
    get diagnostics _rows = row_count;
    raise exception using errcode = 'RLSMX', message = _rows;
  exception
    when sqlstate 'RLSMX' then
      get stacked diagnostics _rows = message_text;
      return case when _rows::bigint > 0 then 'ok' else 'none' end;
    when insufficient_privilege then
      return 'denied';
    when object_not_in_prerequisite_state then
      return 'read_only';
    when others then
      return 'error:' || sqlstate;
  end;
end
$$;

-- Only the test owner runs matrices; a client role calling this could run any SQL as itself anyway, but keep
-- the helper as closed as the schema it tests.
revoke all on function tests.rls_attempt(text, text) from public, anon, authenticated, service_role;

select plan(4);
select has_function('tests', 'rls_attempt', array['text', 'text'], 'the matrix helper is installed');
select is(tests.rls_attempt('anon', 'select 1 from public.conversations'), 'denied',
  'an outcome: anon has no privilege on conversations');
select is(tests.rls_attempt('service_role', 'select 1'), 'ok', 'an outcome: a statement that returns a row');
select is(tests.rls_attempt('service_role', 'select 1 where false'), 'none',
  'an outcome: a statement that returns nothing');
select * from finish();
commit;
