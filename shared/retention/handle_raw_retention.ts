/**
 * HTTP handler of `raw-retention` (verify_jwt = false: pg_cron calls it daily through pg_net with the service
 * key from Vault, which this handler checks).
 *
 *   POST {}                              delete eligible raw objects (bounded batches), answer the report
 *   POST {"dry_run": true, "limit": 50}  list what would be deleted; nothing changes
 *   GET                                  same as a dry run
 *
 * called by: cron job `raw-retention` (30 3 * * *) via private.invoke_edge_function
 * next: shared/retention/run_raw_retention.ts
 */
import { z } from "zod";
import { requireServiceKey } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { json } from "../http/respond.ts";
import { type RetentionDeps, runRawRetention } from "./run_raw_retention.ts";

export interface RawRetentionHandlerDeps extends RetentionDeps {
  serviceKeys: readonly string[];
}

const bodySchema = z.object({
  dry_run: z.boolean().default(false),
  /** At most this many objects in this run (a dry run lists at most this many). */
  limit: z.number().int().min(1).max(100_000).optional(),
}).strict();

/**
 * The HTTP handler. POST or GET only (`method_not_allowed`), the service key only (`unauthorized` /
 * `forbidden`); an empty body means all defaults, any other body must be `{dry_run?, limit?}` with `limit`
 * 1..100000 (`invalid_body`). A GET is always a dry run, so a link followed by mistake deletes nothing.
 * Answers 200 with the run's report, also when retention is off or a Storage batch failed (see `errors`).
 */
export function handleRawRetention(deps: RawRetentionHandlerDeps) {
  return async (req: Request): Promise<Response> => {
    requireMethod(req, "POST", "GET");
    requireServiceKey(req, deps.serviceKeys);
    const body = await readJsonBody(req, bodySchema, 16 * 1024, { optional: true });
    const report = await runRawRetention(deps, {
      dryRun: req.method === "GET" || body.dry_run,
      limit: body.limit,
    });
    return json(report);
  };
}
