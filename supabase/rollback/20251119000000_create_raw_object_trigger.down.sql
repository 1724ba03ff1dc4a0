-- After this, raw uploads no longer mark rows or wake the parse (the stored objects stay where they are).
drop trigger if exists on_raw_object_stored on storage.objects;
drop function if exists private.on_raw_object_stored();
drop function if exists private.record_raw_object(text, text, text, bigint, timestamptz);
drop function if exists private.is_forged_raw_upload(text, text);
drop function if exists private.is_auth_user(uuid);
drop function if exists private.raw_object_conversation_id(text);
drop function if exists private.raw_object_user_id(text);
drop function if exists private.is_raw_object_name(text);
