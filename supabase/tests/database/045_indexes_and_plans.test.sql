-- Indexes of public.conversations for the work queue, a user's list and the monitoring windows
-- (supabase/migrations/20251117000300_add_pipeline_columns.sql, 20251117000800_create_monitoring_views.sql),
-- and proof that each view's 24-hour filter can be served by an index (predicates match). On this tiny table
-- the planner would rather scan, so sequential scans are switched off: what is tested is that an index CAN
-- serve the query. Timings at one million rows: docs/DATABASE.md and tests/integration/database/views_scale_test.ts.
begin;
select plan(16);

create function pg_temp.plan_of(p_query text) returns text language plpgsql as $$
declare
  _line text;
  _plan text := '';
begin
  for _line in execute 'explain (costs off) ' || p_query loop
    _plan := _plan || _line || E'\n';
  end loop;
  return _plan;
end
$$;

-- ============================================================================================================
-- Indexes and their predicates
-- ============================================================================================================
select has_index('public', 'conversations', 'idx_conversations_work_queue',
  array['processing_status', 'next_attempt_at'], 'the work queue is indexed by (processing_status, next_attempt_at)');
select is((select pg_get_expr(indpred, indrelid) from pg_index
            where indexrelid = 'public.idx_conversations_work_queue'::regclass) ~ 'completed|parse_failed|generation_failed',
  false, 'and holds no terminal rows (completed, parse_failed, generation_failed)');
select has_index('public', 'conversations', 'idx_conversations_claims', 'claimed_until',
  'parse claims are indexed by claimed_until');
select is((select pg_get_expr(indpred, indrelid) from pg_index
            where indexrelid = 'public.idx_conversations_claims'::regclass),
  '((processing_status)::text = ''parsing''::text)', 'only rows being parsed hold a claim');
select has_index('public', 'conversations', 'idx_conversations_user_created', array['user_id', 'created_at'],
  'a user''s conversations are indexed newest first');
select has_index('public', 'conversations', 'idx_conversations_created_at', 'created_at',
  'created_at is indexed for the monitoring windows');
select has_index('public', 'conversations', 'idx_conversations_review_created_at', 'created_at',
  'review rows are indexed by created_at');
select has_index('public', 'conversation_parse_attempts', 'idx_conversation_parse_attempts_user',
  array['user_id', 'created_at'], 'a user''s parse attempts are indexed newest first');

-- ============================================================================================================
-- Plans
-- ============================================================================================================
set local enable_seqscan = off;
select matches(pg_temp.plan_of(format('select * from public.%I', v)), 'idx_conversations_created_at',
  format('%s filters its window through idx_conversations_created_at', v))
  from unnest(array['raw_storage_health', 'parse_success_hourly', 'storage_growth_hourly']) v;
select matches(pg_temp.plan_of('select * from public.parse_error_patterns'), 'idx_conversations_review_created_at',
  'parse_error_patterns reads only the window''s review rows (idx_conversations_review_created_at)');
select matches(
  pg_temp.plan_of($$select conversation_id from public.conversations
                    where processing_status = 'raw_stored' and next_attempt_at <= now()
                    order by next_attempt_at limit 50$$),
  'idx_conversations_work_queue', 'the sweeper''s due rows come from the work-queue index');
select matches(
  pg_temp.plan_of($$select conversation_id from public.conversations
                    where processing_status = 'parsing' and claimed_until < now()$$),
  'idx_conversations_(claims|work_queue)',
  'expired claims come from an index that holds only in-flight rows (claims or work queue)');
select matches(
  pg_temp.plan_of($$select conversation_id from public.conversations
                    where user_id = '00000000-0000-4000-8000-000000000000' order by created_at desc limit 20$$),
  'idx_conversations_user_created', 'a user''s newest conversations come from (user_id, created_at desc)');
select matches(
  pg_temp.plan_of($$SELECT COUNT(*) FROM conversations
                    WHERE requires_manual_review = true AND created_at > NOW() - INTERVAL '1 hour'$$),
  'idx_conversations_review_created_at', 'the checklist''s Step 6 error-rate query uses the review-window index');

select * from finish();
rollback;
