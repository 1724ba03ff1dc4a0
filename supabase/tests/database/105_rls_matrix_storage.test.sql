-- The RLS matrix, part 2: storage.objects by path × every actor × every operation, data-driven like 101.
-- The Storage API turns each client call into one of these statements, run as the caller under RLS
-- (storage-api's behaviour, docs/SECURITY.md): download, info, list and sign = select; upload = insert;
-- upsert = insert … on conflict do update; remove = delete. tests/e2e/security/storage_matrix_test.ts runs the
-- same matrix through the Storage API with real tokens.
--
-- Existing objects (select, update, delete, upsert) and new names (insert) are separate targets: a user may
-- create raw/{own uid}/{new conversation id}.json and nothing else; nobody but the service role changes or
-- removes anything (raw responses are write-once). Outcomes: see tests.rls_attempt in file 100.
begin;
-- The storage trigger logs WARNINGs for objects it ignores; keep the TAP output readable.
set local client_min_messages = error;

select tests.create_supabase_user('rls_storage_a') as a \gset
select tests.create_supabase_user('rls_storage_b') as b \gset
select gen_random_uuid() as a1, gen_random_uuid() as a2, gen_random_uuid() as b1, gen_random_uuid() as new_id \gset

-- A's finished conversation a1 (raw response and final file stored), A's conversation a2 still generating
-- (no raw object yet), B's finished conversation b1.
insert into public.conversations (conversation_id, user_id, processing_status, raw_response_path)
values (:'a1', :'a', 'completed', format('raw/%s/%s.json', :'a', :'a1')),
       (:'a2', :'a', 'generating', null),
       (:'b1', :'b', 'completed', format('raw/%s/%s.json', :'b', :'b1'));
insert into storage.buckets (id, name, public) values ('rls-matrix-other', 'rls-matrix-other', false);
insert into storage.objects (bucket_id, name, owner_id, metadata) values
  ('conversation-files', format('raw/%s/%s.json', :'a', :'a1'), null, '{"size": 10}'),
  ('conversation-files', format('raw/%s/%s.json', :'b', :'b1'), null, '{"size": 10}'),
  ('conversation-files', format('%s/%s/conversation.json', :'a', :'a1'), null, '{"size": 5}'),
  ('conversation-files', format('%s/%s/conversation.json', :'b', :'b1'), null, '{"size": 5}'),
  ('conversation-files', format('raw/%s/nested/%s.json', :'a', :'a1'), null, '{"size": 5}'),
  ('conversation-files', format('exports/%s/report.json', :'a'), null, '{"size": 5}'),
  ('conversation-files', format('%s.json', :'a'), null, '{"size": 5}'),
  ('rls-matrix-other', format('raw/%s/%s.json', :'a', :'a1'), null, '{"size": 10}');

-- ============================================================================================================
-- Targets: (bucket, name) of an existing object, or of a new one for insert
-- ============================================================================================================
create temporary table rls_storage_target (
  target text primary key,
  bucket text not null,
  name text not null,
  is_new boolean not null
);
insert into rls_storage_target values
  ('raw/{A}/{A''s conversation}.json', 'conversation-files', format('raw/%s/%s.json', :'a', :'a1'), false),
  ('raw/{B}/{B''s conversation}.json', 'conversation-files', format('raw/%s/%s.json', :'b', :'b1'), false),
  ('{A}/{A''s conversation}/conversation.json', 'conversation-files',
   format('%s/%s/conversation.json', :'a', :'a1'), false),
  ('{B}/{B''s conversation}/conversation.json', 'conversation-files',
   format('%s/%s/conversation.json', :'b', :'b1'), false),
  ('raw/{A}/nested/….json', 'conversation-files', format('raw/%s/nested/%s.json', :'a', :'a1'), false),
  ('exports/{A}/report.json (other prefix)', 'conversation-files', format('exports/%s/report.json', :'a'), false),
  ('{A}.json (bucket root)', 'conversation-files', format('%s.json', :'a'), false),
  ('raw/{A}/… in another bucket', 'rls-matrix-other', format('raw/%s/%s.json', :'a', :'a1'), false),
  ('new raw/{A}/{new id}.json', 'conversation-files', format('raw/%s/%s.json', :'a', :'new_id'), true),
  ('new raw/{B}/{new id}.json', 'conversation-files', format('raw/%s/%s.json', :'b', :'new_id'), true),
  ('new raw/{A}/{A''s conversation being generated}.json', 'conversation-files',
   format('raw/%s/%s.json', :'a', :'a2'), true),
  ('new raw/{A}/{B''s conversation}.json', 'conversation-files', format('raw/%s/%s.json', :'a', :'b1'), true),
  ('new raw/{A}/{NEW ID}.json (uppercase)', 'conversation-files',
   format('raw/%s/%s.json', :'a', upper(:'new_id')), true),
  ('new raw/{A}/{new id}.txt', 'conversation-files', format('raw/%s/%s.txt', :'a', :'new_id'), true),
  ('new raw/{A}/x/{new id}.json (nested)', 'conversation-files', format('raw/%s/x/%s.json', :'a', :'new_id'), true),
  ('new {A}/{new id}/conversation.json', 'conversation-files',
   format('%s/%s/conversation.json', :'a', :'new_id'), true),
  ('new {B}/{new id}/conversation.json', 'conversation-files',
   format('%s/%s/conversation.json', :'b', :'new_id'), true),
  ('new exports/{A}/new.json (other prefix)', 'conversation-files', format('exports/%s/new.json', :'a'), true),
  ('new raw/{A}/{new id}.json in another bucket', 'rls-matrix-other',
   format('raw/%s/%s.json', :'a', :'new_id'), true);

-- ============================================================================================================
-- Expectations: target × operation → anon, user A, user B, service role
-- ============================================================================================================
create temporary table rls_storage_expect (
  target text not null references rls_storage_target,
  op text not null check (op in ('select', 'insert', 'update', 'upsert', 'delete')),
  anon text not null,
  user_a text not null,
  user_b text not null,
  service_role text not null,
  primary key (target, op)
);
insert into rls_storage_expect values
  -- A user reads raw/{own uid}/… and {own uid}/…; nothing of anyone else's; nobody but the service role
  -- changes or removes an object, so a raw response stays what Claude sent.
  ('raw/{A}/{A''s conversation}.json', 'select', 'none', 'ok', 'none', 'ok'),
  ('raw/{A}/{A''s conversation}.json', 'update', 'none', 'none', 'none', 'ok'),
  ('raw/{A}/{A''s conversation}.json', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('raw/{A}/{A''s conversation}.json', 'delete', 'none', 'none', 'none', 'ok'),
  ('raw/{B}/{B''s conversation}.json', 'select', 'none', 'none', 'ok', 'ok'),
  ('raw/{B}/{B''s conversation}.json', 'update', 'none', 'none', 'none', 'ok'),
  ('raw/{B}/{B''s conversation}.json', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('raw/{B}/{B''s conversation}.json', 'delete', 'none', 'none', 'none', 'ok'),
  ('{A}/{A''s conversation}/conversation.json', 'select', 'none', 'ok', 'none', 'ok'),
  ('{A}/{A''s conversation}/conversation.json', 'update', 'none', 'none', 'none', 'ok'),
  ('{A}/{A''s conversation}/conversation.json', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('{A}/{A''s conversation}/conversation.json', 'delete', 'none', 'none', 'none', 'ok'),
  ('{B}/{B''s conversation}/conversation.json', 'select', 'none', 'none', 'ok', 'ok'),
  ('{B}/{B''s conversation}/conversation.json', 'update', 'none', 'none', 'none', 'ok'),
  ('{B}/{B''s conversation}/conversation.json', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('{B}/{B''s conversation}/conversation.json', 'delete', 'none', 'none', 'none', 'ok'),
  -- Anything under raw/{own uid}/ is the user's to read, at any depth (only the service role writes there
  -- besides the user's own new-conversation uploads).
  ('raw/{A}/nested/….json', 'select', 'none', 'ok', 'none', 'ok'),
  ('raw/{A}/nested/….json', 'update', 'none', 'none', 'none', 'ok'),
  ('raw/{A}/nested/….json', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('raw/{A}/nested/….json', 'delete', 'none', 'none', 'none', 'ok'),
  -- Other prefixes are not the user's, even with the user's id in them.
  ('exports/{A}/report.json (other prefix)', 'select', 'none', 'none', 'none', 'ok'),
  ('exports/{A}/report.json (other prefix)', 'update', 'none', 'none', 'none', 'ok'),
  ('exports/{A}/report.json (other prefix)', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('exports/{A}/report.json (other prefix)', 'delete', 'none', 'none', 'none', 'ok'),
  ('{A}.json (bucket root)', 'select', 'none', 'none', 'none', 'ok'),
  ('{A}.json (bucket root)', 'update', 'none', 'none', 'none', 'ok'),
  ('{A}.json (bucket root)', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('{A}.json (bucket root)', 'delete', 'none', 'none', 'none', 'ok'),
  ('raw/{A}/… in another bucket', 'select', 'none', 'none', 'none', 'ok'),
  ('raw/{A}/… in another bucket', 'update', 'none', 'none', 'none', 'ok'),
  ('raw/{A}/… in another bucket', 'upsert', 'denied', 'denied', 'denied', 'ok'),
  ('raw/{A}/… in another bucket', 'delete', 'none', 'none', 'none', 'ok'),
  -- Uploads: only a raw response of one's own, for a conversation id nobody uses yet, spelled as our code
  -- spells it (docs/DATABASE.md, "User uploads to raw/").
  ('new raw/{A}/{new id}.json', 'insert', 'denied', 'ok', 'denied', 'ok'),
  ('new raw/{B}/{new id}.json', 'insert', 'denied', 'denied', 'ok', 'ok'),
  ('new raw/{A}/{A''s conversation being generated}.json', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new raw/{A}/{B''s conversation}.json', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new raw/{A}/{NEW ID}.json (uppercase)', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new raw/{A}/{new id}.txt', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new raw/{A}/x/{new id}.json (nested)', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new {A}/{new id}/conversation.json', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new {B}/{new id}/conversation.json', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new exports/{A}/new.json (other prefix)', 'insert', 'denied', 'denied', 'denied', 'ok'),
  ('new raw/{A}/{new id}.json in another bucket', 'insert', 'denied', 'denied', 'denied', 'ok');

-- The statements, as the Storage API issues them (owner_id is the caller's `sub`, as on upload).
create temporary view rls_storage_cells as
select e.target, e.op, a.n, a.actor, a.who, a.expected,
       case e.op
         when 'select' then format('select 1 from storage.objects where bucket_id = %L and name = %L', t.bucket, t.name)
         when 'update' then format(
           $$update storage.objects set user_metadata = '{"rls": "matrix"}' where bucket_id = %L and name = %L$$,
           t.bucket, t.name)
         when 'delete' then format('delete from storage.objects where bucket_id = %L and name = %L', t.bucket, t.name)
         when 'insert' then format(
           $$insert into storage.objects (bucket_id, name, owner_id, metadata)
             values (%L, %L, (select auth.uid())::text, '{"size": 2}')$$, t.bucket, t.name)
         when 'upsert' then format(
           $$insert into storage.objects (bucket_id, name, owner_id, metadata)
             values (%L, %L, (select auth.uid())::text, '{"size": 2}')
             on conflict (bucket_id, name) do update set metadata = excluded.metadata$$, t.bucket, t.name)
       end as stmt
  from rls_storage_expect e
  join rls_storage_target t using (target)
 cross join lateral (values (1, 'anon', 'anon', e.anon), (2, 'user_a', 'rls_storage_a', e.user_a),
                            (3, 'user_b', 'rls_storage_b', e.user_b),
                            (4, 'service_role', 'service_role', e.service_role)) a(n, actor, who, expected);

select plan((select count(*)::int from rls_storage_cells) + 2);

-- ============================================================================================================
-- The matrix is complete: existing objects have select, update, upsert and delete; new names have insert
-- ============================================================================================================
select is_empty(
  $$select target, op from rls_storage_target
      cross join (values ('select'), ('update'), ('upsert'), ('delete')) o(op) where not is_new
    union all
    select target, 'insert' from rls_storage_target where is_new
    except select target, op from rls_storage_expect$$,
  'every storage target has an expectation for each operation that applies to it');
select is_empty(
  $$select target, op from rls_storage_expect
    except (select target, op from rls_storage_target
              cross join (values ('select'), ('update'), ('upsert'), ('delete')) o(op) where not is_new
            union all select target, 'insert' from rls_storage_target where is_new)$$,
  'no expectation names an operation that does not apply to its target');

-- ============================================================================================================
-- The cells, one assertion each
-- ============================================================================================================
select is(tests.rls_attempt(who, stmt), expected, format('%s: %s %s', actor, op, target))
  from rls_storage_cells
 order by target, op, n;

select * from finish();
rollback;
