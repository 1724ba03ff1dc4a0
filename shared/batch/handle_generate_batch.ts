/**
 * HTTP for generate-batch (verify_jwt = true: a user JWT, or the service key acting for a user with x-user-id):
 *
 *   POST /generate-batch                  {"requests": [generate-conversation bodies]} (+ Idempotency-Key)
 *                                         → 202 {batch_id, anthropic_batch_id, state, request_count,
 *                                           conversation_ids}; 200 + `Idempotent-Replayed: true` on a replay
 *   GET  /generate-batch?limit=N          the caller's batches, newest first, conversations counted per state
 *                                         (the service key without x-user-id: everyone's)
 *   GET  /generate-batch/{batch_id}       one batch, with its conversation ids
 *   POST /generate-batch/{batch_id}/cancel
 *
 * Errors: 400 invalid body or headers · 401 · 403 x-user-id with a user token · 404 user, scaffolding or batch ·
 * 405 · 409 key reused with another batch, or a batch that cannot be canceled · 413 body over the limit · 415 ·
 * 429 a budget (N request units and the sum of max_tokens, reserved at once) · 502/503 Anthropic refused or did
 * not answer (with batch_id; the batch and its conversations are then failed).
 *
 * wired in: supabase/functions/generate-batch/index.ts; next: shared/batch/submit_batch.ts, operate_batch.ts
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { resolveCaller } from "../http/auth.ts";
import { readJsonBody } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { readIdempotencyKey, resolveActingUser } from "../generate/request.ts";
import { batchBodyLimitBytes, batchBodySchema, batchRequestHash } from "./batch_request.ts";
import type { BatchSettings } from "./batch_env.ts";
import { batchStatus, cancelBatch, listBatches } from "./operate_batch.ts";
import { submitBatch, type SubmitDeps } from "./submit_batch.ts";

export interface GenerateBatchDeps extends SubmitDeps {
  serviceKeys: readonly string[];
  settings: BatchSettings;
}

export const FUNCTION_NAME = "generate-batch";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type BatchRoute =
  | { kind: "submit" | "list" }
  | { kind: "get" | "cancel"; batchId: string };

/** Path tail after `generate-batch` + method → route; 404 for an unknown path, 405 for a wrong verb. */
export function matchBatchRoute(method: string, pathname: string): BatchRoute {
  const segments = pathname.split("/").filter((s) => s !== "");
  const at = segments.lastIndexOf(FUNCTION_NAME);
  const tail = at === -1 ? segments : segments.slice(at + 1);
  const allow = <R extends BatchRoute>(verbs: string[], route: R): R => {
    if (!verbs.includes(method)) {
      throw appError("method_not_allowed", `Cannot ${method} this endpoint: use ${verbs.join(" or ")}`, {
        allow: verbs.join(", "),
      });
    }
    return route;
  };
  if (tail.length === 0) {
    return method === "GET" ? { kind: "list" } : allow(["POST", "GET"], { kind: "submit" });
  }
  if (tail.length > 2 || (tail.length === 2 && tail[1] !== "cancel")) {
    throw appError("not_found", `Cannot find ${pathname.slice(0, 200)}: no such endpoint`);
  }
  if (!UUID.test(tail[0])) {
    throw appError("bad_request", `Cannot read batch id "${tail[0].slice(0, 40)}": it must be a uuid`);
  }
  const batchId = tail[0].toLowerCase();
  return tail.length === 1
    ? allow(["GET"], { kind: "get", batchId })
    : allow(["POST"], { kind: "cancel", batchId });
}

const limitSchema = z.string().regex(/^\d{1,4}$/, "must be a whole number").transform(Number).pipe(
  z.number().min(1).max(1000),
);

/** The handler: caller → route → one domain call → JSON. */
export function handleGenerateBatch(deps: GenerateBatchDeps): Handler {
  return async (req: Request) => {
    const route = matchBatchRoute(req.method, new URL(req.url).pathname);
    const caller = resolveCaller(req, deps.serviceKeys, deps.clock.now().getTime());
    // Reads: a user sees their own; the service key sees the named user's, or everyone's.
    const reader = caller.kind === "user"
      ? caller.userId.toLowerCase()
      : req.headers.get("x-user-id") !== null
      ? resolveActingUser(req, caller).userId
      : null;
    switch (route.kind) {
      case "list": {
        const raw = new URL(req.url).searchParams.get("limit");
        const parsed = raw === null ? { success: true as const, data: 50 } : limitSchema.safeParse(raw);
        if (!parsed.success) throw appError("bad_request", "Cannot read limit: it must be 1 to 1000");
        return json({ batches: await listBatches(deps.store, reader, parsed.data) });
      }
      case "get":
        return json(await batchStatus(deps.store, route.batchId, reader));
      case "cancel":
        return json(await cancelBatch(deps, route.batchId, reader), 202);
      case "submit": {
        const acting = resolveActingUser(req, caller);
        const idempotencyKey = readIdempotencyKey(req);
        const body = await readJsonBody(
          req,
          batchBodySchema(deps.settings.maxRequests),
          batchBodyLimitBytes(deps.settings.maxRequests),
        );
        const outcome = await submitBatch(deps, {
          body,
          userId: acting.userId,
          userMustExist: acting.mustExist,
          isService: caller.kind === "service",
          idempotencyKey,
          requestHash: await batchRequestHash(body),
        });
        return outcome.kind === "accepted"
          ? json(outcome.batch, 202)
          : json(outcome.batch, 200, { "idempotent-replayed": "true" });
      }
    }
  };
}
