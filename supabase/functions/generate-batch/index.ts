/**
 * generate-batch: up to BATCH_MAX_REQUESTS generation requests as ONE Message Batch (half price, answered within
 * 24 h); each request is a `batch_queued` conversation at once. Also lists, shows and cancels batches.
 * docs/BATCHES.md.
 *
 * next: shared/batch/handle_generate_batch.ts → submit_batch.ts → the collector (collect-batches)
 */
import { generateBatchDepsFromEnv } from "../../../shared/batch/deps_from_env.ts";
import { handleGenerateBatch } from "../../../shared/batch/handle_generate_batch.ts";
import { serveHandler } from "../../../shared/http/serve.ts";

const deps = generateBatchDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleGenerateBatch(deps), "generate-batch"));
