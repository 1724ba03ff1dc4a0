-- Down: 20251117000300_add_pipeline_columns.sql. CAUTION: data loss in the dropped columns (sha256, tokens,
-- cost, idempotency keys, review notes). The seed's nine columns go back to exactly what its migration created.
drop index if exists public.idx_conversations_user_created;
drop index if exists public.idx_conversations_claims;
drop index if exists public.idx_conversations_work_queue;

alter table public.conversations
  drop constraint if exists conversations_counters_nonnegative,
  drop constraint if exists conversations_idempotency_key_length,
  drop constraint if exists conversations_request_hash_format,
  drop constraint if exists conversations_raw_sha256_format,
  drop constraint if exists conversations_user_id_idempotency_key_key,
  drop constraint if exists conversations_parse_method_used_check;

alter table public.conversations
  alter column parse_attempts drop not null,
  alter column requires_manual_review drop not null;

alter table public.conversations
  drop column if exists raw_sha256,
  drop column if exists stop_reason,
  drop column if exists model,
  drop column if exists input_tokens,
  drop column if exists output_tokens,
  drop column if exists cost_usd,
  drop column if exists truncated,
  drop column if exists generation_error,
  drop column if exists generation_attempts,
  drop column if exists parser_version,
  drop column if exists claimed_until,
  drop column if exists next_attempt_at,
  drop column if exists idempotency_key,
  drop column if exists request_hash,
  drop column if exists raw_deleted_at,
  drop column if exists reviewed_by,
  drop column if exists reviewed_at,
  drop column if exists review_notes,
  drop column if exists dismissed_at,
  drop column if exists dismissed_reason;
