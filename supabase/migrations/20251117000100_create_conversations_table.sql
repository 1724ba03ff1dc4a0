-- public.conversations: the system of record for every generated conversation, and the pipeline's work queue.
--
-- This file creates the table as it stood before the raw-storage deployment (the seed checklist's starting
-- point): the seed's nine raw-storage columns are added by 20251117000200_add_raw_response_storage_columns.sql,
-- exactly as the checklist ships them, and the pipeline's own columns by 20251117000300_add_pipeline_columns.sql.
--
-- Identity: `id` is the row key; `conversation_id` is the business id used in storage paths
-- (raw/{user_id}/{conversation_id}.json) and in every lookup. Both default to fresh uuids.

create table if not exists public.conversations (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null unique default gen_random_uuid(),
  -- Deleting a user deletes their conversations (and, through cascades, attempts and spool rows). The Storage
  -- objects are not rows of this table: remove them through the Storage API (docs/DATABASE.md, "Deleting a user").
  user_id uuid not null references auth.users (id) on delete cascade,

  -- Scaffolding. Nullable: a raw object uploaded without a generation request (an orphan) becomes a row with no
  -- scaffolding. On a scaffolding delete the link is cleared; the keys and snapshot below keep the history.
  persona_id uuid references public.personas (id) on delete set null,
  emotional_arc_id uuid references public.emotional_arcs (id) on delete set null,
  training_topic_id uuid references public.training_topics (id) on delete set null,
  template_id uuid references public.prompt_templates (id) on delete set null,
  persona_key varchar(100),
  emotional_arc_key varchar(100),
  topic_key varchar(100),
  scaffolding_snapshot jsonb,
  tier varchar(50) constraint conversations_tier_check check (tier in ('template', 'scenario', 'edge_case')),
  conversation_name varchar(255),

  processing_status varchar(50) not null default 'generating'
    constraint conversations_processing_status_check check (processing_status in (
      'generating', 'raw_stored', 'parsing', 'completed', 'parse_failed', 'generation_failed', 'raw_spooled'
    )),

  -- The parsed conversation: {user_id}/{conversation_id}/conversation.json in storage_bucket.
  file_path text,
  file_size bigint constraint conversations_file_size_nonnegative check (file_size >= 0),
  storage_bucket varchar(100) default 'conversation-files',
  turn_count integer constraint conversations_turn_count_nonnegative check (turn_count >= 0),

  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.conversations is
  'One row per conversation: scaffolding, generation result, raw response location, parse outcome. Also the '
  'work queue of the parse pipeline (processing_status)';
comment on column public.conversations.conversation_id is
  'Business id: used in storage paths and lookups (id is only the row key)';
comment on column public.conversations.user_id is 'Owner (auth.users.id); RLS lets a user read only their own rows';
comment on column public.conversations.scaffolding_snapshot is
  'Persona/arc/topic/template subsets as they were at generation time, so later edits do not rewrite history';
comment on column public.conversations.processing_status is
  'generating -> raw_stored -> parsing -> completed | parse_failed; also generation_failed (Claude never answered '
  'usably) and raw_spooled (raw bytes held in raw_response_spool until Storage accepts them). docs/DATABASE.md';
comment on column public.conversations.file_path is
  'Storage path of the parsed conversation ({user_id}/{conversation_id}/conversation.json); a path, never a URL';

alter table public.conversations enable row level security;

create or replace trigger on_row_updated before update on public.conversations
  for each row execute function private.set_updated_at();
