-- Should be 0 or very low
SELECT COUNT(*) FROM conversations 
WHERE requires_manual_review = true 
  AND created_at > NOW() - INTERVAL '1 hour';
