SELECT 
  parse_method_used,
  COUNT(*) as count,
  ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 2) as percentage
FROM conversations
WHERE created_at > NOW() - INTERVAL '1 hour'
  AND parse_method_used IS NOT NULL
GROUP BY parse_method_used;
