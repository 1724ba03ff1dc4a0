/**
 * parse-conversation: turns a stored raw Claude response into the final conversation file, exactly once in effect.
 *
 * called by: the trigger on_raw_object_stored (supabase/migrations/20251119000000_create_raw_object_trigger.sql)
 * and the sweeper private.sweep_conversations (…20251119000300_create_conversation_sweeper.sql), both through
 * private.invoke_edge_function; also review tooling with the service key.
 * next: shared/parse_flow/handle_parse_conversation.ts → parse_conversation.ts → shared/parse/mod.ts.
 * verify_jwt is off (supabase/config.toml): pg_net presents the service key, which the handler checks in code.
 */
import { serveHandler } from "../../../shared/http/serve.ts";
import { parseHandlerDepsFromEnv } from "../../../shared/parse_flow/deps_from_env.ts";
import { handleParseConversation } from "../../../shared/parse_flow/handle_parse_conversation.ts";

const deps = parseHandlerDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleParseConversation(deps), "parse-conversation"));
