/**
 * HTTP of `collect-batches` (verify_jwt = false: pg_cron calls it every minute through pg_net with the service
 * key from Vault, which this handler checks). POST (or GET) runs one collector pass and answers its summary;
 * POST `{"dry_run": true}` (what `deno task verify` sends) only counts the open batches: nothing is called or
 * written.
 *
 * called by: cron job `collect-batches` (20251210000000_create_generation_batches.sql)
 * next: shared/batch/collect_batches.ts
 */
import { z } from "zod";
import { requireServiceKey } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { collectBatches, type CollectDeps } from "./collect_batches.ts";

export interface CollectBatchesDeps extends CollectDeps {
  serviceKeys: readonly string[];
}

const bodySchema = z.object({ dry_run: z.boolean().default(false) }).strict();

/**
 * POST or GET, the service key only (401/403); an empty body or `{dry_run?}` (`invalid_body` otherwise); 200 with
 * `{stale_submits_failed, batches: [...]}`, or `{dry_run: true, open_batches}`.
 */
export function handleCollectBatches(deps: CollectBatchesDeps): Handler {
  return async (req: Request) => {
    requireMethod(req, "POST", "GET");
    requireServiceKey(req, deps.serviceKeys);
    const body = req.method === "POST"
      ? await readJsonBody(req, bodySchema, 16 * 1024, { optional: true })
      : { dry_run: false };
    if (body.dry_run) {
      return json({
        dry_run: true,
        open_batches: (await deps.store.openBatches(deps.settings.batchesPerRun)).length,
      });
    }
    return json(await collectBatches(deps));
  };
}
