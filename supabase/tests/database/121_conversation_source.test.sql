-- Provenance (20251204000100_add_conversation_source.sql) and the monitor's per-source and per-account rules
-- (20251204000200_monitor_rules_per_source.sql): the database sets conversations.source from what it sees at
-- insert, whatever the inserter sends, and never changes it; one user's uploads cannot fire the review-queue
-- alert for everyone; the account that dominates failures is named.
begin;
set local client_min_messages = error;
select plan(16);

select tests.create_supabase_user('t121_a') as a \gset
select tests.create_supabase_user('t121_b') as b \gset
-- No upload limit in the way of this file's fixtures.
update private.usage_limits set max_amount = null where user_id is null and limit_name like 'raw_%';

-- generate-conversation's insert (status generating) is generated, even when the inserter says otherwise.
select gen_random_uuid() as gen \gset
insert into public.conversations (conversation_id, user_id, processing_status, source)
values (:'gen', :'a', 'generating', 'uploaded');
select is((select source from public.conversations where conversation_id = :'gen'), 'generated',
  'a generating insert is generated, whatever the inserter sent');

-- A user's own upload to raw/ (owner_id = the user, as the Storage API writes it) creates an uploaded row.
select gen_random_uuid() as up \gset
insert into storage.objects (bucket_id, name, owner_id, metadata)
values ('conversation-files', 'raw/' || :'a' || '/' || :'up' || '.json', :'a', '{"size": 10}');
select is((select source from public.conversations where conversation_id = :'up'), 'uploaded',
  'a row created from a user''s upload is uploaded');

-- A service-key object without a row (no owner) is recovered.
select gen_random_uuid() as rec \gset
insert into storage.objects (bucket_id, name, metadata)
values ('conversation-files', 'raw/' || :'a' || '/' || :'rec' || '.json', '{"size": 10}');
select is((select source from public.conversations where conversation_id = :'rec'), 'recovered',
  'a row created from a service-key object is recovered');

-- Anything else is manual.
select gen_random_uuid() as man \gset
insert into public.conversations (conversation_id, user_id, processing_status, source)
values (:'man', :'a', 'completed', 'generated');
select is((select source from public.conversations where conversation_id = :'man'), 'manual',
  'a hand-made row is manual, whatever it claims');

-- Immutable: an update cannot change it, not even the service role's.
update public.conversations set source = 'generated' where conversation_id = :'up';
select is((select source from public.conversations where conversation_id = :'up'), 'uploaded',
  'an update cannot turn an upload into model output');
update public.conversations set processing_status = 'completed', parse_method_used = 'manual'
 where conversation_id = :'up';
select is((select source from public.conversations where conversation_id = :'up'), 'uploaded',
  'nor can a resolve by hand');
select col_not_null('public', 'conversations', 'source', 'source is never null');
select col_has_check('public', 'conversations', 'source', 'source has a check of its values');

-- The health summary: the checklist's view row, then the same window split by source.
select ok((select (private.health_overview(now()) -> 'raw_storage_health' ->> 'uploaded_count')::int >= 1),
  'the health overview counts uploads next to the checklist''s figures');
select ok((select private.health_overview(now()) -> 'raw_storage_health' ?& array['total_conversations',
  'generated_count', 'uploaded_count', 'other_source_count', 'uploaded_manual_review_count']),
  'with the view''s own columns and the four by-source counts');

-- Monitor: 100 of B's uploads in review, created in an hour a thousand years from now (the failures window
-- then holds B's rows only, whatever else this database holds) do not move manual_review_queue; the per-user rule names B.
insert into public.conversations (user_id, processing_status, raw_response_path, requires_manual_review,
  created_at)
select :'b', 'parse_failed', 'raw/' || :'b' || '/' || gen_random_uuid() || '.json', true,
       now() + interval '1000 years' - interval '1 minute'
  from generate_series(1, 100);
-- Those rows are 'manual' (hand-made); make them uploads the way the trigger does, for this fixture only.
alter table public.conversations disable trigger set_conversation_source;
update public.conversations set source = 'uploaded' where user_id = :'b';
alter table public.conversations enable trigger set_conversation_source;

select is((select value from private.health_rule_values(now()) where rule = 'manual_review_queue'),
  (select count(*)::numeric from public.conversations where requires_manual_review and source <> 'uploaded'),
  'manual_review_queue leaves users'' uploads out');
select is((select (details ->> 'uploaded_in_review')::int from private.health_rule_values(now())
            where rule = 'manual_review_queue'),
  (select count(*)::int from public.conversations where requires_manual_review and source = 'uploaded'),
  'and says how many it left out');
select is((select details ->> 'user_id' from private.account_rule_values(now())
            where rule = 'upload_review_queue_per_user'), :'b',
  'upload_review_queue_per_user names the user whose uploads fill the queue');
select ok((select value >= 100 from private.account_rule_values(now()) where rule = 'upload_review_queue_per_user'),
  'with their count');

-- failures_by_user: in that future hour B holds every failure but one of A's.
insert into public.conversations (user_id, processing_status, created_at)
values (:'a', 'generation_failed', now() + interval '1000 years' - interval '2 minutes');
select is((select details ->> 'user_id' from private.account_rule_values(now() + interval '1000 years')
            where rule = 'failures_by_user'),
  :'b', 'failures_by_user names the account with the most failures');
select results_eq(
  $$select value, sample from private.account_rule_values(now() + interval '1000 years') where rule = 'failures_by_user'$$,
  $$values (99.01::numeric, 101::bigint)$$,
  'its value is that account''s share of the window''s failures (100 of 101), its sample all failures');

select * from finish();
rollback;
