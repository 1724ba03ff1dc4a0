SELECT parse_error_message, COUNT(*)
FROM conversations
WHERE requires_manual_review = true
GROUP BY parse_error_message;
