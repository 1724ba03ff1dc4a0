drop function if exists private.invoke_edge_function(text, jsonb, integer);
drop function if exists private.vault_secret(text);
