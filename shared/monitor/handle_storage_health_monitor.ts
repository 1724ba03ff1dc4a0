/**
 * HTTP handler of `storage-health-monitor` (verify_jwt = false: pg_cron calls it through pg_net with the
 * service key from Vault, which this handler checks).
 *
 *   POST {}                 evaluate, record alert changes, deliver notices; answer the summary
 *   POST {"dry_run": true}  evaluate only: nothing written, nothing sent (what `deno task health` shows)
 *   GET                     same as a dry run
 *
 * called by: cron job `storage-health-monitor` (*\/5 * * * *) via private.invoke_edge_function
 * next: shared/monitor/run_monitor.ts
 */
import { z } from "zod";
import { requireServiceKey } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { json } from "../http/respond.ts";
import { type MonitorDeps, runMonitor } from "./run_monitor.ts";

export interface StorageHealthMonitorDeps extends MonitorDeps {
  serviceKeys: readonly string[];
}

const bodySchema = z.object({ dry_run: z.boolean().default(false) }).strict();

/**
 * The HTTP handler. POST or GET only (`method_not_allowed`), the service key only (`unauthorized` /
 * `forbidden`); an empty body means `{dry_run: false}`, any other body must be `{dry_run?}` (`invalid_body`).
 * A GET is always a dry run: nothing recorded, nothing sent. Answers 200 with the summary, also when rules fire
 * or a webhook delivery fails.
 */
export function handleStorageHealthMonitor(deps: StorageHealthMonitorDeps) {
  return async (req: Request): Promise<Response> => {
    requireMethod(req, "POST", "GET");
    requireServiceKey(req, deps.serviceKeys);
    const body = await readJsonBody(req, bodySchema, 16 * 1024, { optional: true });
    const summary = await runMonitor(deps, { dryRun: req.method === "GET" || body.dry_run });
    return json(summary);
  };
}
