-- Create view for monitoring
CREATE OR REPLACE VIEW raw_storage_health AS
SELECT 
  COUNT(*) as total_conversations,
  COUNT(CASE WHEN requires_manual_review THEN 1 END) as manual_review_count,
  COUNT(CASE WHEN parse_method_used = 'direct' THEN 1 END) as direct_parse_count,
  COUNT(CASE WHEN parse_method_used = 'jsonrepair' THEN 1 END) as jsonrepair_count,
  SUM(raw_response_size) / 1024 / 1024 as raw_storage_mb,
  AVG(parse_attempts) as avg_parse_attempts
FROM conversations
WHERE created_at > NOW() - INTERVAL '24 hours'
  AND raw_response_path IS NOT NULL;
