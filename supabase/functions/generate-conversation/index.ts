/**
 * generate-conversation: POST a persona, an emotional arc, a training topic and a tier; Claude writes the
 * conversation; its response is stored raw in Storage before anything parses it. docs/GENERATE.md.
 *
 * next: shared/generate/handler.ts → shared/generate/generate.ts → Storage trigger on_raw_object_stored →
 * parse-conversation
 */
import { generateDepsFromEnv } from "../../../shared/generate/deps_from_env.ts";
import { handleGenerateConversation } from "../../../shared/generate/handler.ts";
import { serveHandler } from "../../../shared/http/serve.ts";

const deps = generateDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleGenerateConversation(deps), "generate-conversation"));
