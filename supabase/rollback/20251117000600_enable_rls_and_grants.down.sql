-- Down: 20251117000600_enable_rls_and_grants.sql. Drops the policies and the grants it made. RLS itself stays
-- enabled (each table's own migration enabled it), so without these policies users see nothing: failing closed.
drop policy if exists "users read own parse attempts" on public.conversation_parse_attempts;
drop policy if exists "users read own conversations" on public.conversations;
drop policy if exists "authenticated read active prompt templates" on public.prompt_templates;
drop policy if exists "authenticated read active training topics" on public.training_topics;
drop policy if exists "authenticated read active emotional arcs" on public.emotional_arcs;
drop policy if exists "authenticated read active personas" on public.personas;

revoke all on table
  public.personas, public.emotional_arcs, public.training_topics, public.prompt_templates,
  public.conversations, public.conversation_parse_attempts, public.raw_response_spool
  from authenticated, service_role;
revoke all on sequence public.conversation_parse_attempts_id_seq from service_role;
