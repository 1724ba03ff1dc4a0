-- Down: 20251117000200_add_raw_response_storage_columns.sql. The deployment checklist's Rollback Plan,
-- "Option 2: Rollback Database + Code", step 2, unchanged. Revert the code first.
-- On this project the views of 20251117000800 and the constraints of 20251117000300 depend on these columns:
-- run the later down scripts first (newest first); run alone against the full schema this block fails with
-- 2BP01 and changes nothing (docs/DATABASE.md, "Rollback").
BEGIN;

-- Remove indexes
DROP INDEX IF EXISTS idx_conversations_requires_review;
DROP INDEX IF EXISTS idx_conversations_parse_attempts;

-- Remove columns
ALTER TABLE conversations 
DROP COLUMN IF EXISTS raw_response_url,
DROP COLUMN IF EXISTS raw_response_path,
DROP COLUMN IF EXISTS raw_response_size,
DROP COLUMN IF EXISTS raw_stored_at,
DROP COLUMN IF EXISTS parse_attempts,
DROP COLUMN IF EXISTS last_parse_attempt_at,
DROP COLUMN IF EXISTS parse_error_message,
DROP COLUMN IF EXISTS parse_method_used,
DROP COLUMN IF EXISTS requires_manual_review;

COMMIT;
