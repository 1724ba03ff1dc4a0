-- Who may touch what, for every table of this schema. New Supabase projects no longer grant table access to
-- anon/authenticated/service_role by default (and older ones granted everything), so both directions are
-- explicit here: revoke everything first, then grant exactly what each role needs.
--
--   anon           nothing
--   authenticated  SELECT only: active scaffolding, and their own conversations and parse attempts (RLS)
--   service_role   everything (it bypasses RLS); the Edge Functions write through it
--
-- No INSERT/UPDATE/DELETE policy exists for users on any table: writes go through the functions, which validate
-- and apply the state machine. RLS is enabled in each table's own migration.

revoke all on table
  public.personas, public.emotional_arcs, public.training_topics, public.prompt_templates,
  public.conversations, public.conversation_parse_attempts, public.raw_response_spool
  from public, anon, authenticated;
revoke all on sequence public.conversation_parse_attempts_id_seq from public, anon, authenticated;

grant all on table
  public.personas, public.emotional_arcs, public.training_topics, public.prompt_templates,
  public.conversations, public.conversation_parse_attempts, public.raw_response_spool
  to service_role;
grant usage, select on sequence public.conversation_parse_attempts_id_seq to service_role;

grant select on table
  public.personas, public.emotional_arcs, public.training_topics, public.prompt_templates,
  public.conversations, public.conversation_parse_attempts
  to authenticated;

-- Scaffolding: what a user can pick from. Inactive rows are retired and hidden.
drop policy if exists "authenticated read active personas" on public.personas;
create policy "authenticated read active personas" on public.personas
  for select to authenticated using (is_active);

drop policy if exists "authenticated read active emotional arcs" on public.emotional_arcs;
create policy "authenticated read active emotional arcs" on public.emotional_arcs
  for select to authenticated using (is_active);

drop policy if exists "authenticated read active training topics" on public.training_topics;
create policy "authenticated read active training topics" on public.training_topics
  for select to authenticated using (is_active);

drop policy if exists "authenticated read active prompt templates" on public.prompt_templates;
create policy "authenticated read active prompt templates" on public.prompt_templates
  for select to authenticated using (is_active);

-- Own rows only. `(select auth.uid())` is evaluated once per statement instead of once per row (Supabase's
-- RLS performance advice); idx_conversations_user_created serves the filter.
drop policy if exists "users read own conversations" on public.conversations;
create policy "users read own conversations" on public.conversations
  for select to authenticated using (user_id = (select auth.uid()));

drop policy if exists "users read own parse attempts" on public.conversation_parse_attempts;
create policy "users read own parse attempts" on public.conversation_parse_attempts
  for select to authenticated using (user_id = (select auth.uid()));

-- raw_response_spool: no policy and no grant for users (RLS on, so even a stray grant would show nothing).
