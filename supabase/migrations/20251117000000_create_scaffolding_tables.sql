-- Scaffolding: the building blocks a conversation is generated from (seed-origin §1b). A generation request
-- names one persona, one emotional arc and one training topic; a prompt template is picked by
-- emotional_arc_type = arc_key (and tier). Rows are deactivated (is_active = false), not deleted: conversations
-- keep their keys and a scaffolding_snapshot, but an active row is what new requests may use.

create table if not exists public.personas (
  id uuid primary key default gen_random_uuid(),
  persona_key varchar(100) not null unique
    constraint personas_persona_key_format check (persona_key ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
  name varchar(255) not null,
  archetype varchar(255) not null,
  age_range varchar(50),
  occupation varchar(255),
  income_range varchar(100),
  demographics jsonb not null default '{}'::jsonb,
  financial_background text,
  financial_situation text,
  communication_style text,
  emotional_baseline text,
  typical_questions text[] not null default '{}',
  common_concerns text[] not null default '{}',
  language_patterns text[] not null default '{}',
  is_active boolean not null default true,
  usage_count integer not null default 0 constraint personas_usage_count_nonnegative check (usage_count >= 0),
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.personas is
  'Client personas (who asks). persona_key is the stable name used in prompts, snapshots and logs';

create table if not exists public.emotional_arcs (
  id uuid primary key default gen_random_uuid(),
  arc_key varchar(100) not null unique
    constraint emotional_arcs_arc_key_format check (arc_key ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
  name varchar(255) not null,
  description text,
  starting_emotion varchar(100) not null,
  ending_emotion varchar(100) not null,
  starting_intensity_min numeric(3, 2) check (starting_intensity_min between 0 and 1),
  starting_intensity_max numeric(3, 2) check (starting_intensity_max between 0 and 1),
  ending_intensity_min numeric(3, 2) check (ending_intensity_min between 0 and 1),
  ending_intensity_max numeric(3, 2) check (ending_intensity_max between 0 and 1),
  arc_strategy text,
  key_principles text[] not null default '{}',
  characteristic_phrases text[] not null default '{}',
  response_techniques text[] not null default '{}',
  avoid_tactics text[] not null default '{}',
  typical_turn_count_min integer check (typical_turn_count_min > 0),
  typical_turn_count_max integer check (typical_turn_count_max > 0),
  complexity_baseline integer check (complexity_baseline between 1 and 10),
  tier varchar(50) not null default 'template' check (tier in ('template', 'scenario', 'edge_case')),
  conversation_category varchar(20) not null default 'core' check (conversation_category in ('core', 'edge')),
  suitable_personas text[] not null default '{}',
  suitable_topics text[] not null default '{}',
  example_conversation_id uuid,
  is_active boolean not null default true,
  usage_count integer not null default 0 check (usage_count >= 0),
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint emotional_arcs_turn_count_range check (typical_turn_count_min <= typical_turn_count_max),
  constraint emotional_arcs_starting_intensity_range check (starting_intensity_min <= starting_intensity_max),
  constraint emotional_arcs_ending_intensity_range check (ending_intensity_min <= ending_intensity_max)
);

comment on table public.emotional_arcs is
  'How the client''s emotion should move through a conversation (e.g. confusion_to_clarity). arc_key selects the '
  'prompt template (prompt_templates.emotional_arc_type)';

create table if not exists public.training_topics (
  id uuid primary key default gen_random_uuid(),
  topic_key varchar(100) not null unique
    constraint training_topics_topic_key_format check (topic_key ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
  name varchar(255) not null,
  category varchar(100),
  description text,
  complexity_level varchar(20) check (complexity_level in ('beginner', 'intermediate', 'advanced')),
  typical_question_examples text[] not null default '{}',
  key_concepts text[] not null default '{}',
  suitable_personas text[] not null default '{}',
  suitable_emotional_arcs text[] not null default '{}',
  requires_specialist boolean not null default false,
  is_active boolean not null default true,
  usage_count integer not null default 0 check (usage_count >= 0),
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.training_topics is 'What the conversation is about (e.g. hsa_vs_fsa)';

create table if not exists public.prompt_templates (
  id uuid primary key default gen_random_uuid(),
  template_name varchar(255) not null unique,
  description text,
  category varchar(100),
  tier varchar(50) not null default 'template' check (tier in ('template', 'scenario', 'edge_case')),
  template_text text not null constraint prompt_templates_template_text_not_blank check (btrim(template_text) <> ''),
  structure text,
  variables jsonb not null default '{}'::jsonb,
  tone varchar(100),
  complexity_baseline integer check (complexity_baseline between 1 and 10),
  style_notes text,
  example_conversation text,
  quality_threshold numeric(3, 1) check (quality_threshold between 0 and 10),
  required_elements text[] not null default '{}',
  usage_count integer not null default 0 check (usage_count >= 0),
  rating numeric(3, 2),
  success_rate numeric(5, 2) check (success_rate between 0 and 100),
  version integer not null default 1 check (version > 0),
  is_active boolean not null default true,
  created_by uuid references auth.users (id) on delete set null,
  last_modified_by uuid references auth.users (id) on delete set null,
  emotional_arc_id uuid references public.emotional_arcs (id) on delete set null,
  -- The selector upstream used (must equal an arc_key). A foreign key, so a typo cannot silently leave an arc
  -- without a template; renaming an arc_key carries its templates along.
  emotional_arc_type varchar(100) references public.emotional_arcs (arc_key) on update cascade,
  suitable_personas text[] not null default '{}',
  suitable_topics text[] not null default '{}',
  methodology_principles text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.prompt_templates is
  'Prompt texts with {{placeholders}}; template_text is what is sent (structure is only notes: upstream Fix #5)';
comment on column public.prompt_templates.emotional_arc_type is
  'arc_key of the emotional arc this template serves; generation picks an active template by it and by tier';

create index if not exists idx_prompt_templates_selector
  on public.prompt_templates (emotional_arc_type, tier) where is_active;
create index if not exists idx_prompt_templates_emotional_arc_id on public.prompt_templates (emotional_arc_id);

-- RLS from the first moment each table exists; policies and grants: 20251117000600_enable_rls_and_grants.sql.
alter table public.personas enable row level security;
alter table public.emotional_arcs enable row level security;
alter table public.training_topics enable row level security;
alter table public.prompt_templates enable row level security;

create or replace trigger on_row_updated before update on public.personas
  for each row execute function private.set_updated_at();
create or replace trigger on_row_updated before update on public.emotional_arcs
  for each row execute function private.set_updated_at();
create or replace trigger on_row_updated before update on public.training_topics
  for each row execute function private.set_updated_at();
create or replace trigger on_row_updated before update on public.prompt_templates
  for each row execute function private.set_updated_at();
