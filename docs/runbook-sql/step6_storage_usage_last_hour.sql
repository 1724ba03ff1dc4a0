SELECT 
  COUNT(*) as conversations,
  SUM(raw_response_size) / 1024 / 1024 as raw_mb,
  AVG(raw_response_size) as avg_raw_bytes
FROM conversations
WHERE created_at > NOW() - INTERVAL '1 hour'
  AND raw_response_path IS NOT NULL;
