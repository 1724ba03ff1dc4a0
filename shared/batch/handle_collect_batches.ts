/**
 * HTTP of `collect-batches` (verify_jwt = false: pg_cron calls it every minute through pg_net with the service
 * key from Vault, which this handler checks). POST (or GET) runs one collector pass and answers its summary.
 *
 * called by: cron job `collect-batches` (20251210000000_create_generation_batches.sql)
 * next: shared/batch/collect_batches.ts
 */
import { requireServiceKey } from "../http/auth.ts";
import { requireMethod } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { collectBatches, type CollectDeps } from "./collect_batches.ts";

export interface CollectBatchesDeps extends CollectDeps {
  serviceKeys: readonly string[];
}

/** POST or GET, the service key only (401/403); 200 with `{stale_submits_failed, batches: [...]}`. */
export function handleCollectBatches(deps: CollectBatchesDeps): Handler {
  return async (req: Request) => {
    requireMethod(req, "POST", "GET");
    requireServiceKey(req, deps.serviceKeys);
    await req.body?.cancel();
    return json(await collectBatches(deps));
  };
}
