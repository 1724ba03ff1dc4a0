-- The RLS matrix, part 3: what the client roles can call and reach besides tables (files 101 and 105).
-- A table can be locked down perfectly and still leak through a SECURITY DEFINER function a client may call,
-- a policy written for PUBLIC (which includes anon), or a schema opened too widely. Read from the catalog, so
-- a function or policy added later is checked without editing this file; the allow-lists below are the only
-- exceptions, each with its reason.
begin;
select plan(8);

-- Functions a client role may call that run with their owner's rights. Anything else found callable fails.
create temporary table definer_allowed (fn text, role text, why text);
insert into definer_allowed values
  ('private.can_upload_raw_object(text)', 'authenticated',
   'the storage INSERT policy calls it as the uploader; it answers one yes/no about the caller''s own path');

-- Schema USAGE: role × schema → expected (NULL: the platform decides, not asserted).
create temporary table schema_usage_expect (schema text, anon boolean, authenticated boolean, service_role boolean);
insert into schema_usage_expect values
  ('public', true, true, true),
  -- authenticated needs USAGE for the storage policy's helper; nothing else in it is callable (below).
  ('private', false, true, true),
  ('vault', false, false, true),
  ('cron', false, false, null);

-- ============================================================================================================
-- SECURITY DEFINER functions
-- ============================================================================================================
select set_eq(
  $$select p.oid::regprocedure::text, r.role
      from pg_proc p
     cross join (values ('anon'), ('authenticated')) r(role)
     where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace, 'storage'::regnamespace)
       and p.prosecdef
       and has_schema_privilege(r.role, p.pronamespace, 'usage')
       and has_function_privilege(r.role, p.oid, 'execute')$$,
  $$select fn, role from definer_allowed$$,
  'anon and authenticated can call no SECURITY DEFINER function but the allow-listed ones');

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
     where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prosecdef
       and not coalesce(exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%'), false)$$,
  'every SECURITY DEFINER function of ours pins its search_path (no hijacking through a caller''s schema)');

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
     where p.pronamespace = 'public'::regnamespace
       and (has_function_privilege('anon', p.oid, 'execute')
            or has_function_privilege('authenticated', p.oid, 'execute'))$$,
  'no function in schema public (the Data API''s /rpc) is callable by anon or authenticated');

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p
     where p.pronamespace = 'private'::regnamespace and p.prosecdef
       and has_function_privilege('public', p.oid, 'execute')$$,
  'no SECURITY DEFINER function in schema private keeps the default EXECUTE for PUBLIC');

-- ============================================================================================================
-- Policies and schemas
-- ============================================================================================================
select is_empty(
  $$select schemaname || '.' || tablename || ': ' || policyname from pg_policies
     where schemaname in ('public', 'storage') and (roles @> array['public'::name] or roles @> array['anon'::name])$$,
  'no policy on our tables or storage applies to PUBLIC or anon (anon reaches nothing)');

select set_eq(
  $$select e.schema, r.role, has_schema_privilege(r.role, e.schema, 'usage')
      from schema_usage_expect e
     cross join lateral (values ('anon', e.anon), ('authenticated', e.authenticated),
                                ('service_role', e.service_role)) r(role, expected)
     where r.expected is not null$$,
  $$select e.schema, r.role, r.expected
      from schema_usage_expect e
     cross join lateral (values ('anon', e.anon), ('authenticated', e.authenticated),
                                ('service_role', e.service_role)) r(role, expected)
     where r.expected is not null$$,
  'schema USAGE per role is exactly the expected matrix');

select is_empty(
  $$select c.oid::regclass::text || ' ' || r.role from pg_class c
     cross join (values ('anon'), ('authenticated')) r(role)
     where c.relnamespace = 'public'::regnamespace and c.relkind = 'S'
       and (has_sequence_privilege(r.role, c.oid, 'usage') or has_sequence_privilege(r.role, c.oid, 'update'))$$,
  'anon and authenticated can use no sequence of schema public');

select is_empty(
  $$select t.tgname::text from pg_trigger t join pg_proc p on p.oid = t.tgfoid
     where t.tgrelid = 'storage.objects'::regclass and not t.tgisinternal
       and p.pronamespace = 'private'::regnamespace
       and not (p.prosecdef and exists (select 1 from unnest(p.proconfig) c where c like 'search_path=%'))$$,
  'our triggers on storage.objects run as definer with a pinned search_path (the writer is a client role)');

select * from finish();
rollback;
