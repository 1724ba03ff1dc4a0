SELECT 
  DATE_TRUNC('hour', created_at) as hour,
  COUNT(*) as conversations,
  SUM(raw_response_size) / 1024 / 1024 as mb_per_hour
FROM conversations
WHERE created_at > NOW() - INTERVAL '24 hours'
  AND raw_response_path IS NOT NULL
GROUP BY DATE_TRUNC('hour', created_at)
ORDER BY hour DESC;
