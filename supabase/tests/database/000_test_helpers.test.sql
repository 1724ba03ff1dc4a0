-- Test-only helpers in schema `tests`, installed by this first file and committed so later files can use them
-- (the pattern of usebasejump/supabase-test-helpers; database.dev is unreachable here, so they are our own).
-- Files run in name order under pg_prove and `supabase test db` alike.
begin;
set local client_min_messages = warning;
create extension if not exists pgtap with schema extensions;
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Creates (or returns) a user in auth.users keyed by a readable identifier.
create or replace function tests.create_supabase_user(identifier text, email text default null)
returns uuid
language plpgsql
security definer
set search_path = auth, pg_temp
as $$
declare
  _id uuid;
begin
  select id into _id from auth.users where raw_user_meta_data ->> 'test_identifier' = identifier;
  if _id is not null then
    return _id;
  end if;
  insert into auth.users (id, email, role, aud, raw_user_meta_data)
  values (gen_random_uuid(), coalesce(email, identifier || '@test.local'), 'authenticated', 'authenticated',
          jsonb_build_object('test_identifier', identifier))
  returning id into _id;
  return _id;
end
$$;

create or replace function tests.get_supabase_uid(identifier text) returns uuid
language sql stable security definer
set search_path = auth, pg_temp
as $$
  select id from auth.users where raw_user_meta_data ->> 'test_identifier' = identifier
$$;

-- Acts as the user for the rest of the transaction, as PostgREST/Storage do: role + request.jwt.claims.
create or replace function tests.authenticate_as(identifier text) returns void
language plpgsql
as $$
declare
  _id uuid := tests.get_supabase_uid(identifier);
begin
  if _id is null then
    raise exception 'Cannot authenticate as "%": no such test user', identifier;
  end if;
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims',
    json_build_object('sub', _id, 'role', 'authenticated', 'email', identifier || '@test.local')::text, true);
end
$$;

create or replace function tests.authenticate_as_service_role() returns void
language plpgsql
as $$
begin
  perform set_config('role', 'service_role', true);
  perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
end
$$;

create or replace function tests.clear_authentication() returns void
language plpgsql
as $$
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role": "anon"}', true);
end
$$;

-- Back to the migration owner (postgres) after acting as someone.
create or replace function tests.as_owner() returns void
language plpgsql
as $$
begin
  perform set_config('role', 'postgres', true);
  perform set_config('request.jwt.claims', '', true);
end
$$;

create or replace function tests.rls_enabled(testing_schema text) returns text
language sql
as $$
  select is(
    (select count(*)::int from pg_tables where schemaname = testing_schema and not rowsecurity),
    0,
    format('every table in schema %s has row level security enabled', testing_schema)
  )
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

select plan(1);
select has_function('tests', 'authenticate_as', array['text'], 'the test helpers are installed');
select * from finish();
commit;
