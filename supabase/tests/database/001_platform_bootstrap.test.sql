-- The platform bootstrap (local/bootstrap/platform.sql) behaves as the Supabase image does.
begin;
select plan(17);

-- Roles ---------------------------------------------------------------------------------------
select has_role('anon', 'role anon exists');
select has_role('authenticated', 'role authenticated exists');
select has_role('service_role', 'role service_role exists');
select has_role('authenticator', 'role authenticator exists');
select ok((select rolbypassrls from pg_roles where rolname = 'service_role'), 'service_role bypasses RLS');

-- auth.uid() over request.jwt.claims --------------------------------------------------------------
select tests.create_supabase_user('bootstrap_alice');
select tests.authenticate_as('bootstrap_alice');
select is(auth.uid(), tests.get_supabase_uid('bootstrap_alice'), 'auth.uid() reads sub from request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() reads role from request.jwt.claims');
select is(current_user::text, 'authenticated', 'the session acts as the authenticated role');
select tests.as_owner();
select is(auth.uid(), null, 'auth.uid() is null when the claims setting is the empty string');
select set_config('request.jwt.claim.sub', '00000000-0000-0000-0000-00000000000a', true);
select is(auth.uid(), '00000000-0000-0000-0000-00000000000a'::uuid, 'auth.uid() prefers the legacy request.jwt.claim.sub');
select set_config('request.jwt.claim.sub', '', true);

-- storage -------------------------------------------------------------------------------------
select ok((select relrowsecurity from pg_class where oid = 'storage.objects'::regclass), 'RLS is enabled on storage.objects');
select ok((select relrowsecurity from pg_class where oid = 'storage.buckets'::regclass), 'RLS is enabled on storage.buckets');
select is(storage.foldername('raw/u1/c1.json'), array['raw', 'u1'], 'storage.foldername() returns the folders');
select throws_ok(
  $$delete from storage.objects where false$$,
  '42501',
  null,
  'a direct delete from storage.objects is refused without storage.allow_delete_query'
);

-- net: a queued request vanishes with a rollback --------------------------------------------------
select lives_ok(
  $$select net.http_post('http://127.0.0.1:9/never', '{"a": 1}'::jsonb)$$,
  'net.http_post() queues a request'
);
select is((select count(*)::int from net.http_request_queue where url = 'http://127.0.0.1:9/never'), 1,
  'the queued request is visible inside the transaction');
savepoint before_post;
select net.http_post('http://127.0.0.1:9/rolled-back');
rollback to savepoint before_post;
select is((select count(*)::int from net.http_request_queue where url = 'http://127.0.0.1:9/rolled-back'), 0,
  'a rolled-back net.http_post leaves no queued request');

select * from finish();
rollback;
