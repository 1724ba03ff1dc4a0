SELECT 
  AVG(raw_response_size) as avg_bytes,
  MAX(raw_response_size) as max_bytes
FROM conversations
WHERE created_at > NOW() - INTERVAL '24 hours';
