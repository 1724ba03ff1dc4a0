/**
 * review-queue: the manual review queue — list, inspect (with a short-lived link to the raw response), re-parse,
 * resolve with a corrected conversation, dismiss; and retry-all after a parser upgrade (service role).
 * Routes and errors: docs/REVIEW.md.
 *
 * called by: users (their own items) and operators with the service key; cli/reparse.ts (retry-all).
 * next: shared/review/handler.ts → shared/review/reparse.ts → shared/parse_flow/parse_conversation.ts.
 * verify_jwt is on (supabase/config.toml): the platform checks the token; the handler scopes by its `sub`.
 */
import { serveHandler } from "../../../shared/http/serve.ts";
import { reviewDepsFromEnv } from "../../../shared/review/deps_from_env.ts";
import { FUNCTION_NAME } from "../../../shared/review/routes.ts";
import { handleReviewQueue } from "../../../shared/review/handler.ts";

const deps = reviewDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleReviewQueue(deps), FUNCTION_NAME));
