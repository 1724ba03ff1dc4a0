-- Per-user budgets and rate limits (20251204000000_create_usage_limits.sql): the effective limit (a user's row
-- over the default), fixed UTC windows, all-or-nothing reservations, settling, the service exemption, and the
-- upload charge on storage.objects that refuses with 42501 as the uploading user and as the Storage API's
-- service_role write. Concurrency (two connections on the last unit) is tested from Deno with real
-- connections: tests/integration/generate/usage_limits_test.ts.
begin;
set local client_min_messages = error;
select plan(27);

select tests.create_supabase_user('t120_a') as a \gset
select tests.create_supabase_user('t120_b') as b \gset
-- (Calls inside generate_series joins take `0 * g` so that PostgreSQL calls them once per row, not once.)
-- A fixed instant, 20 s into a minute, so windows and resets are exact.
select '2030-05-06 07:08:20+00'::timestamptz as t0 \gset

-- Known defaults for this test, whatever an operator set.
update private.usage_limits set max_amount = 2, applies_to_service = false
 where user_id is null and limit_name = 'generate_requests_per_minute';
update private.usage_limits set max_amount = 10000, applies_to_service = false
 where user_id is null and limit_name = 'generate_output_tokens_per_day';
update private.usage_limits set max_amount = 2 where user_id is null and limit_name = 'raw_uploads_per_hour';
update private.usage_limits set max_amount = 1000 where user_id is null and limit_name = 'raw_upload_bytes_per_day';

-- Defaults exist for the four limits.
select is((select count(*)::int from private.usage_limits where user_id is null), 4,
  'one default row per limit');
select throws_ok(
  $$insert into private.usage_limits (limit_name, user_id, max_amount) values ('generate_requests_per_minute', null, 5)$$,
  '23505', null, 'a second default for the same limit is refused (unique nulls not distinct)');
select throws_ok(
  $$insert into private.usage_limits (limit_name, max_amount) values ('requests_per_fortnight', 5)$$,
  '23514', null, 'an unknown limit name is refused');

-- Windows.
select is(private.usage_window_start('generate_requests_per_minute', :'t0'), '2030-05-06 07:08:00+00'::timestamptz,
  'the minute window starts on the UTC minute');
select is(private.usage_window_start('raw_uploads_per_hour', :'t0'), '2030-05-06 07:00:00+00'::timestamptz,
  'the hour window starts on the UTC hour');
set local timezone = 'Pacific/Auckland';
select is(private.usage_window_start('generate_output_tokens_per_day', :'t0'), '2030-05-06 00:00:00+00'::timestamptz,
  'the day window is the UTC day whatever the session time zone');
reset timezone;

-- Reservations: two requests per minute, then a refusal naming the limit and its reset.
select ok((select allowed from private.reserve_generation(:'a', 3000, false, :'t0')), 'first request reserved');
select ok((select allowed from private.reserve_generation(:'a', 3000, false, :'t0')), 'second request reserved');
select results_eq(
  format($$select allowed, refused_limit, max_amount, used, reset_at
             from private.reserve_generation(%L, 3000, false, %L)$$, :'a', :'t0'),
  $$values (false, 'generate_requests_per_minute'::text, 2::bigint, 3::bigint,
            '2030-05-06 07:09:00+00'::timestamptz)$$,
  'the third request in the minute is refused with the limit, its size and its reset');
select is((select used from private.usage_counters where user_id = :'a' and limit_name = 'generate_output_tokens_per_day'),
  6000::bigint, 'the refused request reserved no tokens');
select ok((select allowed from private.reserve_generation(:'a', 3000, false, :'t0'::timestamptz + interval '1 minute')),
  'the next minute starts a new window');

-- Tokens: 9000 of 10000 reserved; 3000 more does not fit, and its request unit is given back.
select results_eq(
  format($$select allowed, refused_limit from private.reserve_generation(%L, 3000, false, %L)$$,
    :'a', :'t0'::timestamptz + interval '1 minute'),
  $$values (false, 'generate_output_tokens_per_day'::text)$$,
  'a reservation over the day''s token budget is refused');
select is((select used from private.usage_counters where user_id = :'a' and limit_name = 'generate_requests_per_minute'),
  1::bigint, 'and the request unit it took is given back (both or neither)');

-- Settling: 2500 of a 3000 reservation unused → 6500 left charged; now 3000 fits again.
select lives_ok(format($$select private.release_usage(%L, 'generate_output_tokens_per_day', '2030-05-06 00:00:00+00', 2500)$$, :'a'),
  'a settlement gives tokens back');
select is((select used from private.usage_counters where user_id = :'a' and limit_name = 'generate_output_tokens_per_day'),
  6500::bigint, 'to the window they were reserved in');
select lives_ok(format($$select private.release_usage(%L, 'generate_output_tokens_per_day', '2030-05-05 00:00:00+00', 9999)$$, :'a'),
  'a release for a past window');
select is((select used from private.usage_counters where user_id = :'a' and limit_name = 'generate_output_tokens_per_day'),
  6500::bigint, 'changes nothing in the current one');

-- A per-user row overrides the default; null = unlimited.
insert into private.usage_limits (limit_name, user_id, max_amount) values ('generate_requests_per_minute', :'b', null);
select ok((select bool_and(allowed) from generate_series(1, 5) g, private.reserve_generation(:'b', 100 + 0 * g, false, :'t0')),
  'a user with an unlimited row of their own is never refused by the default');

-- The service is exempt by default, counted when the row says applies_to_service.
select ok((select bool_and(allowed) from generate_series(1, 5) g, private.reserve_generation(:'a', 100 + 0 * g, true, :'t0' ::timestamptz + interval '1 minute')),
  'the service acting for a user is exempt by default');
update private.usage_limits set applies_to_service = true where user_id is null and limit_name = 'generate_requests_per_minute';
select is((select count(*) filter (where allowed)::int from generate_series(1, 3) g,
                  private.reserve_generation(:'a', 100 + 0 * g, true, :'t0'::timestamptz + interval '1 minute')),
  1, 'and counted like a user when applies_to_service is set');

-- Uploads: the charge runs on storage.objects as the user (the Storage API's probe) and as the service_role write
-- with owner_id = the user; the third upload of the hour is refused with 42501 and the limit in the message.
select tests.authenticate_as('t120_a');
select lives_ok(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 100}')$$, :'a', gen_random_uuid(), :'a'),
  'a user uploads one raw object');
select tests.authenticate_as_service_role();
select lives_ok(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 100}')$$, :'a', gen_random_uuid(), :'a'),
  'the Storage API''s own write of a second (service_role, owner_id = the user)');
select throws_like(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 100}')$$, :'a', gen_random_uuid(), :'a'),
  'Cannot upload: raw_uploads_per_hour limit reached (2 allowed%',
  'the third upload in the hour is refused, naming the limit');
select throws_ok(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 100}')$$, :'a', gen_random_uuid(), :'a'),
  '42501', null, 'with SQLSTATE 42501 (storage-api''s AccessDenied, message passed through)');
select lives_ok(format($$insert into storage.objects (bucket_id, name, metadata)
  values ('conversation-files', 'raw/%s/%s.json', '{"size": 100}')$$, :'a', gen_random_uuid()),
  'a service-key upload (no owner) is never charged');
select throws_like(format($$insert into storage.objects (bucket_id, name, owner_id, metadata)
  values ('conversation-files', 'raw/%s/%s.json', %L, '{"size": 1001}')$$, :'b', gen_random_uuid(), :'b'),
  'Cannot upload: raw_upload_bytes_per_day limit reached%', 'an object over the day''s bytes is refused');
select tests.as_owner();
select is((select count(*)::int from storage.objects where name like 'raw/' || :'a' || '/%' and owner_id = :'a'), 2,
  'the refused uploads left no object row');

select * from finish();
rollback;
