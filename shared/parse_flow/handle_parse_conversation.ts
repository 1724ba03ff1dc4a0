/**
 * POST /functions/v1/parse-conversation — internal: the service key only (verify_jwt is off; checked here).
 *
 * Body (one JSON object; unknown fields are refused):
 *   {"conversation_id": "<uuid>"}                       one conversation (the storage trigger's wake-up)
 *   {"conversation_ids": ["<uuid>", …]}                 up to 50 (the sweeper's re-dispatch batches)
 *   {"flush_spool": true}                               upload due spooled raw responses first
 *   "source": "trigger" | "sweeper" | "review" | …      optional, recorded in the attempts log
 *
 * Answers 200 with one result per id, in request order (`completed`, `parse_failed`, `released`, `skipped`,
 * `error`), after the work is done: one conversation takes tens of milliseconds, a batch of 50 well under the
 * 2 s CPU budget, so nothing needs EdgeRuntime.waitUntil and callers (the sweeper, review) see real results.
 * The database is the queue: a lost or duplicated request changes nothing a later sweep cannot fix.
 *
 * called by: trigger on_raw_object_stored and private.sweep_conversations through private.invoke_edge_function;
 * next: shared/parse_flow/parse_conversation.ts, shared/parse_flow/flush_spool.ts.
 */
import { z } from "zod";
import { requireServiceKey } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { logger } from "../log.ts";
import { mapLimit } from "./_map_limit.ts";
import { flushSpool, type SpoolFlushResult } from "./flush_spool.ts";
import { parseConversation, type ParseFlowDeps, type ParseItemResult } from "./parse_conversation.ts";

export const MAX_IDS_PER_REQUEST = 50;

// z.guid: any 8-4-4-4-12 hex id Postgres accepts as uuid. z.uuid would refuse non-RFC variants, and one such id
// (say, from an orphaned object's name) would make a whole sweeper batch fail validation.
const conversationId = z.guid().transform((s) => s.toLowerCase());

export const parseRequestSchema = z.strictObject({
  conversation_id: conversationId.optional(),
  conversation_ids: z.array(conversationId).min(1).max(MAX_IDS_PER_REQUEST).optional(),
  flush_spool: z.boolean().optional(),
  source: z.enum(["trigger", "sweeper", "review", "retry_all", "manual"]).optional(),
}).refine(
  (b) => b.conversation_id !== undefined || b.conversation_ids !== undefined || b.flush_spool === true,
  { message: "send conversation_id, conversation_ids or flush_spool: true" },
).refine(
  (b) => (b.conversation_ids?.length ?? 0) + (b.conversation_id ? 1 : 0) <= MAX_IDS_PER_REQUEST,
  { message: `at most ${MAX_IDS_PER_REQUEST} conversations per request` },
);

export type ParseRequest = z.infer<typeof parseRequestSchema>;

export interface ParseHandlerDeps {
  readonly flow: ParseFlowDeps;
  readonly serviceKeys: readonly string[];
  /** Conversations processed at once within one request (I/O overlap; CPU is one thread). */
  readonly concurrency: number;
  /** Spool rows uploaded per request. */
  readonly spoolBatch: number;
  /**
   * Milliseconds of work after which a request starts no more conversations: the rest are answered `skipped` /
   * `deferred`, unclaimed, and the sweeper sends them again. One expensive raw object cannot push a batch of
   * other users' conversations past the platform's CPU limit. Default `DEFAULT_BATCH_BUDGET_MS`.
   */
  readonly batchBudgetMs?: number;
}

/** Half of hosted Edge Functions' 2 s of CPU per request: room for the item already running when it is spent. */
export const DEFAULT_BATCH_BUDGET_MS = 1000;

export interface ParseResponse {
  results: ParseItemResult[];
  counts: Record<ParseItemResult["result"], number>;
  spool?: SpoolFlushResult;
}

/**
 * The work of one parse request, after auth and body validation: the spool flush if asked, then each distinct
 * id once (duplicates in the body are merged), in request order, `concurrency` at a time. Once the batch budget
 * is spent, ids not yet started are answered `skipped`/`deferred` without being claimed; the first id always
 * runs. Never throws for one conversation: a thrown bug becomes `error`/`internal` for that id only. The
 * source defaults to `sweeper` for `conversation_ids`, else `trigger`.
 */
export async function processParseRequest(
  deps: ParseHandlerDeps,
  body: ParseRequest,
): Promise<ParseResponse> {
  const source = body.source ?? (body.conversation_ids ? "sweeper" : "trigger");
  // Spool first: its uploads fire the trigger, which wakes the parse of each flushed conversation.
  const spool = body.flush_spool ? await flushSpool(deps.flow, deps.spoolBatch) : undefined;
  const ids = [
    ...new Set([...(body.conversation_id ? [body.conversation_id] : []), ...(body.conversation_ids ?? [])]),
  ];
  const started = deps.flow.clock.monotonic();
  const budget = deps.batchBudgetMs ?? DEFAULT_BATCH_BUDGET_MS;
  const results = await mapLimit(ids, deps.concurrency, async (id, index): Promise<ParseItemResult> => {
    // The first id always runs (a single wake-up must make progress); later ones wait for the next request.
    if (index > 0 && deps.flow.clock.monotonic() - started > budget) {
      return { conversation_id: id, result: "skipped", reason: "deferred" };
    }
    try {
      return await parseConversation(deps.flow, id, source);
    } catch (err) {
      // parseConversation never throws by contract; if a bug makes it, only this id is affected.
      logger.error("parse_internal_error", { conversation_id: id, error: String(err) });
      return { conversation_id: id, result: "error", error_code: "internal" };
    }
  });
  const counts = { completed: 0, parse_failed: 0, released: 0, skipped: 0, error: 0 };
  for (const r of results) counts[r.result]++;
  return spool ? { results, counts, spool } : { results, counts };
}

/**
 * The HTTP handler. Refuses, before any conversation is touched: another method (`method_not_allowed`), a caller
 * without the service key (`unauthorized` / `forbidden`), a body over 16 KiB (`payload_too_large`), not JSON
 * (`unsupported_media_type`, `invalid_body`) or not what `parseRequestSchema` accepts (`invalid_body`).
 * Otherwise answers 200 with `processParseRequest`'s result.
 */
export function handleParseConversation(deps: ParseHandlerDeps): Handler {
  return async (req) => {
    requireMethod(req, "POST");
    requireServiceKey(req, deps.serviceKeys);
    const body = await readJsonBody(req, parseRequestSchema, 16 * 1024);
    return json(await processParseRequest(deps, body));
  };
}
