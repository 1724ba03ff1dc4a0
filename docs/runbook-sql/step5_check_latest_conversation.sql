SELECT 
  conversation_id,
  raw_response_url,
  raw_response_path,
  raw_stored_at,
  processing_status
FROM conversations
WHERE created_at > NOW() - INTERVAL '5 minutes'
ORDER BY created_at DESC
LIMIT 1;
