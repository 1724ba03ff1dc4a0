-- Scaffolding tables (supabase/migrations/20251117000000_create_scaffolding_tables.sql) and the seed data
-- (supabase/seed.sql): shape, constraints, the fixed seed ids other tests and docs rely on.
begin;
select plan(26);

-- ============================================================================================================
-- Shape
-- ============================================================================================================
select has_table('public', t, format('table public.%s exists', t))
  from unnest(array['personas', 'emotional_arcs', 'training_topics', 'prompt_templates']) t;
select col_is_unique('public', 'personas', 'persona_key', 'persona_key is unique');
select col_is_unique('public', 'emotional_arcs', 'arc_key', 'arc_key is unique');
select col_is_unique('public', 'training_topics', 'topic_key', 'topic_key is unique');
select col_is_unique('public', 'prompt_templates', 'template_name', 'template_name is unique');
select col_not_null('public', 'prompt_templates', 'template_text', 'a template always has text to send');
select fk_ok('public', 'prompt_templates', 'emotional_arc_type', 'public', 'emotional_arcs', 'arc_key',
  'prompt_templates.emotional_arc_type references emotional_arcs.arc_key (the selector cannot dangle)');

-- ============================================================================================================
-- Constraints
-- ============================================================================================================
select throws_ok($$insert into public.personas (persona_key, name, archetype) values ('Bad Key', 'n', 'a')$$,
  '23514', null, 'a persona_key must be snake_case (it is used as an identifier in prompts and logs)');
select throws_ok(
  $$insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion, starting_intensity_min)
    values ('too_intense', 'n', 'a', 'b', 1.5)$$,
  '23514', null, 'intensities are between 0 and 1');
select throws_ok(
  $$insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion, typical_turn_count_min,
      typical_turn_count_max) values ('backwards', 'n', 'a', 'b', 10, 4)$$,
  '23514', null, 'typical_turn_count_min cannot exceed typical_turn_count_max');
select throws_ok(
  $$insert into public.emotional_arcs (arc_key, name, starting_emotion, ending_emotion, tier)
    values ('premium_arc', 'n', 'a', 'b', 'premium')$$,
  '23514', null, 'an arc tier is template, scenario or edge_case');
select throws_ok(
  $$insert into public.training_topics (topic_key, name, complexity_level) values ('t_x', 'n', 'expert')$$,
  '23514', null, 'complexity_level is beginner, intermediate or advanced');
select throws_ok(
  $$insert into public.prompt_templates (template_name, template_text, emotional_arc_type)
    values ('dangling', 'Hello {{persona_name}}', 'no_such_arc')$$,
  '23503', null, 'a template for an arc_key that does not exist is refused');
select throws_ok(
  $$insert into public.prompt_templates (template_name, template_text) values ('blank', '   ')$$,
  '23514', null, 'a blank template_text is refused (upstream Fix #5 sent the wrong field)');

update public.emotional_arcs set arc_key = 'confusion_to_understanding'
 where id = '20000000-0000-4000-8000-000000000001';
select is((select emotional_arc_type::text from public.prompt_templates
            where id = '40000000-0000-4000-8000-000000000001'),
  'confusion_to_understanding', 'renaming an arc_key carries its templates along (on update cascade)');

update public.personas set updated_at = '2000-01-01', name = 'Marcus C.'
 where id = '10000000-0000-4000-8000-000000000001';
select is((select updated_at from public.personas where id = '10000000-0000-4000-8000-000000000001'), now(),
  'updated_at is set by the trigger, whatever the writer sends');

-- ============================================================================================================
-- Seed data (fixed ids, documented in docs/DATABASE.md)
-- ============================================================================================================
select cmp_ok((select count(*)::int from public.personas where id::text like '10000000-%'), '>=', 5,
  'the seed ships at least five personas');
select cmp_ok((select count(*)::int from public.emotional_arcs where id::text like '20000000-%'), '>=', 5,
  'the seed ships at least five emotional arcs');
select cmp_ok((select count(*)::int from public.training_topics where id::text like '30000000-%'), '>=', 5,
  'the seed ships at least five training topics');
select results_eq(
  $$select persona_key::text from public.personas where id = '10000000-0000-4000-8000-000000000001'
    union all select arc_key::text from public.emotional_arcs where id = '20000000-0000-4000-8000-000000000002'
    union all select topic_key::text from public.training_topics where id = '30000000-0000-4000-8000-000000000001'$$,
  $$values ('overwhelmed_avoider'), ('shame_to_acceptance'), ('hsa_vs_fsa')$$,
  'the documented seed ids name the documented keys');
select is_empty(
  $$select id from public.prompt_templates
     where id::text like '40000000-%' and (template_text !~ '\{\{[a-z_]+\}\}' or emotional_arc_type is null)$$,
  'every seeded template has {{placeholders}} and an emotional_arc_type');
select is_empty(
  $$select a.arc_key from public.emotional_arcs a
     where a.id::text like '20000000-%' and a.tier = 'template'
       and not exists (select 1 from public.prompt_templates t
                        where t.emotional_arc_type = a.arc_key and t.is_active)$$,
  'every seeded template-tier arc has an active prompt template');
select ok(
  (select bool_and(id::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
     from (select id from public.personas union all select id from public.emotional_arcs
           union all select id from public.training_topics union all select id from public.prompt_templates) s
    where id::text ~ '^[1-4]0000000-'),
  'seed ids are version-4 shaped, so strict uuid validators (zod z.uuid()) accept them');

select * from finish();
rollback;
