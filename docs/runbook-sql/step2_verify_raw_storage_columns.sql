SELECT column_name, data_type
FROM information_schema.columns
WHERE table_name = 'conversations'
  AND column_name IN (
    'raw_response_url', 'raw_response_path', 'raw_response_size',
    'raw_stored_at', 'parse_attempts', 'last_parse_attempt_at',
    'parse_error_message', 'parse_method_used', 'requires_manual_review'
  )
ORDER BY column_name;
