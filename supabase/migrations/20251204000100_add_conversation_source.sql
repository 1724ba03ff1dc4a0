-- Provenance: conversations.source says where a conversation came from, set by the database itself from facts
-- it sees at insert time, never from what an inserter sends (docs/SECURITY.md, "Provenance"):
--
--   generated  inserted `generating` by generate-conversation: Claude's answer to our prompt
--   uploaded   created by the storage trigger from an object a signed-in user uploaded to raw/{own id}/
--              (owner_id = the user): the user's bytes, not model output
--   recovered  created by the storage trigger or the sweeper from an object written with the service key (no
--              uploading user) that had no row: generate-conversation's answer when the database was down at
--              the time, or an operator's upload
--   manual     any other insert: an operator's row made by hand with SQL
--
-- The value never changes after the insert (an UPDATE keeps the old one), so a later resolve in review, a retry
-- or a re-upload cannot launder an upload into model output.

alter table public.conversations
  add column if not exists source text not null default 'manual'
    constraint conversations_source_check check (source in ('generated', 'uploaded', 'recovered', 'manual'));

comment on column public.conversations.source is
  'Provenance, set by the database at insert: generated | uploaded | recovered | manual (docs/SECURITY.md)';

-- Existing rows: a row with scaffolding was generated; a row without it was created from an object, uploaded
-- when that object's uploader is a user, else recovered.
update public.conversations c
   set source = case
                  when c.scaffolding_snapshot is not null or c.persona_id is not null then 'generated'
                  when exists (select 1 from storage.objects o
                                where o.bucket_id = 'conversation-files' and o.name = c.raw_response_path
                                  and o.owner_id is not null) then 'uploaded'
                  when c.raw_response_path is not null then 'recovered'
                  else 'manual'
                end;

create or replace function private.set_conversation_source() returns trigger
language plpgsql
security definer
-- definer: reads storage.objects (the uploader of the object a row is created from) whatever the inserter.
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' then
    new.source := old.source;
    return new;
  end if;
  new.source := case
    when new.processing_status = 'generating' then 'generated'
    when new.raw_response_path is not null then
      case when exists (select 1 from storage.objects o
                         where o.bucket_id = 'conversation-files' and o.name = new.raw_response_path
                           and o.owner_id is not null)
           then 'uploaded' else 'recovered' end
    else 'manual'
  end;
  return new;
end
$$;

drop trigger if exists set_conversation_source on public.conversations;
create trigger set_conversation_source
  before insert or update of source on public.conversations
  for each row execute function private.set_conversation_source();

revoke all on function private.set_conversation_source() from public;

-- The monitor's per-source figures read the review queue and the recent failures by source.
create index if not exists idx_conversations_review_by_source
  on public.conversations (source, user_id) where requires_manual_review;
