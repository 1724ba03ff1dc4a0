SELECT 
  parse_error_message,
  COUNT(*) as count
FROM conversations
WHERE requires_manual_review = true
  AND created_at > NOW() - INTERVAL '24 hours'
GROUP BY parse_error_message
ORDER BY count DESC;
