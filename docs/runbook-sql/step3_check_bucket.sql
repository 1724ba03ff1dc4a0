SELECT * FROM storage.buckets WHERE id = 'conversation-files';
