// collect-batches: stores each ended Message Batch's results file raw, then splits it into raw objects and
// failures, every minute (pg_cron → pg_net). docs/BATCHES.md.
// called by: cron job `collect-batches` (20251210000000_create_generation_batches.sql)
// next: shared/batch/handle_collect_batches.ts → collect_batches.ts → storage trigger → parse-conversation
import { collectBatchesDepsFromEnv } from "../../../shared/batch/deps_from_env.ts";
import { handleCollectBatches } from "../../../shared/batch/handle_collect_batches.ts";
import { serveHandler } from "../../../shared/http/serve.ts";

const deps = collectBatchesDepsFromEnv(Deno.env);

Deno.serve(serveHandler(handleCollectBatches(deps), "collect-batches"));
