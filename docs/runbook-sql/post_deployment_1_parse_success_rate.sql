SELECT 
  DATE_TRUNC('hour', created_at) as hour,
  COUNT(*) as total,
  COUNT(CASE WHEN parse_method_used = 'direct' THEN 1 END) as direct,
  COUNT(CASE WHEN requires_manual_review THEN 1 END) as failed
FROM conversations
WHERE created_at > NOW() - INTERVAL '24 hours'
  AND raw_response_path IS NOT NULL
GROUP BY DATE_TRUNC('hour', created_at)
ORDER BY hour DESC;
