-- The spool's flush backoff counts failed flushes only, not generate-conversation's upload attempts before the
-- bytes were spooled (20251122000100_spool_backoff_counts_flushes.sql).
begin;
set local client_min_messages = error;
select plan(3);

select tests.create_supabase_user('t055_owner') as owner \gset
select gen_random_uuid() as cid \gset
insert into public.conversations (conversation_id, user_id, processing_status) values (:'cid', :'owner', 'raw_spooled');
-- generate-conversation tried four uploads before spooling.
insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size, upload_attempts)
values (:'cid', :'owner', 'xyz', encode(sha256('xyz'), 'hex'), 3, 4);

select is(private.defer_spooled_raw(:'cid', 'storage down', '2026-01-01 00:00:00+00'),
  '2026-01-01 00:00:30+00'::timestamptz, 'the first failed flush waits 30 s, whatever generate tried before');
select is(private.defer_spooled_raw(:'cid', 'storage down', '2026-01-01 00:01:00+00'),
  '2026-01-01 00:02:00+00'::timestamptz, 'the second waits 60 s');
select is((select flush_failures from public.raw_response_spool where conversation_id = :'cid'), 2,
  'flush_failures counts the failed flushes');

select * from finish();
rollback;
