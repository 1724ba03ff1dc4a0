INSERT INTO storage.buckets (id, name, public)
VALUES ('conversation-files', 'conversation-files', false);
