/**
 * The `review-queue` function's handler: route → caller → one domain call → JSON.
 *
 * Who sees what: a user JWT reaches only that user's conversations (another user's item answers 404, exactly as
 * one that does not exist); a reviewer (`app_metadata.role = "reviewer"`, set only by the service) and the
 * service key reach all of them; only the service runs retry-all; only reviewers and the service read the
 * health route. The platform checks the JWT's signature (`verify_jwt = true`); `resolveCaller` reads its claims.
 *
 * called by: supabase/functions/review-queue/index.ts;
 * next: shared/review/reparse.ts (retry), shared/review/retry_all.ts, shared/review/resolve.ts (resolve),
 * shared/review/item_detail.ts (get), shared/adapters/postgres_review_repo.ts (SQL).
 */
import type { ObjectStore } from "../pipeline/object_store.ts";
import { appError } from "../errors.ts";
import { type Caller, resolveCaller } from "../http/auth.ts";
import { readJsonBody } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { logger } from "../log.ts";
import type { ParseFlowDeps } from "../parse_flow/parse_conversation.ts";
import { z } from "zod";
import { parseDismissRequest } from "./dismiss_request.ts";
import { itemDetail } from "./item_detail.ts";
import { resolveItem } from "./resolve.ts";
import { encodeCursor } from "./cursor.ts";
import { parseListQuery, type Scope } from "./list_query.ts";
import { reparse, type ReparseResult } from "./reparse.ts";
import type { Refusal, RepoScope, ReviewRepo } from "./repo.ts";
import { MAX_RESOLVE_BODY_BYTES, parseResolveRequest } from "./resolve_request.ts";
import { matchRoute } from "./routes.ts";
import { readReviewHealth, type ReviewHealthDeps } from "./health.ts";
import { parseRetryAllRequest, runRetryAll } from "./retry_all.ts";

/** Re-exported for callers of the handler module; it lives with the detail view now. */
export { parseErrorOf } from "./item_detail.ts";

/** How long a raw-object link lives: long enough to open it, short enough that a pasted link soon dies. */
export const DEFAULT_SIGNED_URL_SECONDS = 300;
/** Wall clock retry-all spends per call before answering with a cursor (hosted limit: 150 s). */
export const DEFAULT_RETRY_ALL_BUDGET_MS = 60_000;

export interface ReviewDeps {
  readonly repo: ReviewRepo;
  readonly store: ObjectStore;
  /** The parse flow, as parse-conversation wires it (its store is the same Storage). */
  readonly flow: ParseFlowDeps;
  readonly serviceKeys: readonly string[];
  readonly signedUrlSeconds: number;
  readonly retryAllBudgetMs: number;
  /** What `GET /review-queue/health` reads: the monitor's store (dry run) and the alerts/source counts. */
  readonly health: Omit<ReviewHealthDeps, "clock">;
}

/** Reviewers and the service reach every user's items; a plain user only their own. */
function seesAll(caller: Caller): boolean {
  return caller.kind === "service" || caller.reviewer;
}

function repoScope(caller: Caller): RepoScope {
  return caller.kind === "user" && !seesAll(caller) ? { userId: caller.userId } : { userId: null };
}

function listScope(caller: Caller): Scope {
  return caller.kind === "user" && !seesAll(caller)
    ? { kind: "user", userId: caller.userId }
    : { kind: "service" };
}

/**
 * The reviewer recorded on resolve/dismiss: a user (a reviewer too) is always themself; the service may name an
 * operator.
 */
function reviewer(caller: Caller, claimed: string | null): string | null {
  if (caller.kind === "service") return claimed;
  if (claimed !== null && claimed !== caller.userId) {
    throw appError("forbidden", "Cannot act for another reviewer: reviewed_by must be your own user id");
  }
  return caller.userId;
}

function refuse(refusal: Refusal, action: string, conversationId: string): never {
  switch (refusal) {
    case "not_found":
      throw appError("not_found", `Cannot find conversation "${conversationId}"`);
    case "not_in_review":
      throw appError(
        "not_in_review",
        `Cannot ${action} conversation "${conversationId}": it is not waiting for review`,
      );
    case "unknown_reviewer":
      throw appError(
        "invalid_body",
        `Cannot ${action} conversation "${conversationId}": reviewed_by is not a user`,
      );
    case "raw_unavailable":
      throw appError(
        "conflict",
        `Cannot ${action} conversation "${conversationId}": its raw response is no longer stored`,
      );
  }
}

/** retry and retry-all take an optional JSON object (an empty body means all defaults). */
function readOptionalJson(req: Request): Promise<unknown> {
  return readJsonBody(req, z.unknown(), 16 * 1024, { optional: true });
}

function retryStatus(result: ReparseResult): number {
  // 200 when this request wrote the outcome; 202 when the row is queued and another worker (or a later sweep)
  // finishes it.
  return result.result === "completed" || result.result === "parse_failed" ? 200 : 202;
}

/**
 * The HTTP handler. The caller is resolved before the route, so without a valid token every path answers
 * `unauthorized`. A user reaches only their own items (another user's answers `not_found`, exactly like a
 * missing one) and is always recorded as their own reviewer (`forbidden` otherwise); retry-all is service-only
 * (`forbidden`), and so is the health route for a plain user (reviewers and the service read it). Refusals map to `not_found`, `not_in_review`, `conflict` (raw response gone) and
 * `invalid_body` (unknown reviewer). A retry answers 200 when this request wrote the outcome, else 202.
 */
export function handleReviewQueue(deps: ReviewDeps): Handler {
  return async (req) => {
    const url = new URL(req.url);
    // Authenticate before routing: a caller without a token learns nothing, not even which paths exist.
    const caller = resolveCaller(req, deps.serviceKeys, deps.flow.clock.now().getTime());
    const route = matchRoute(req.method, url.pathname);
    const scope = repoScope(caller);
    const actor = caller.kind === "user" ? caller.userId : "service";

    switch (route.kind) {
      case "list": {
        const query = parseListQuery(url.searchParams, listScope(caller));
        const { items, total, hasMore } = await deps.repo.list(query);
        const last = items[items.length - 1];
        return json({
          items: items.map((i) => i.item),
          next_cursor: hasMore && last ? encodeCursor(last.position, query.fingerprint) : null,
          total,
          limit: query.limit,
          filters: {
            status: query.status,
            since: query.since?.toISOString() ?? null,
            error: query.errorText,
            source: query.source ?? "any",
            user_id: seesAll(caller) ? query.userId : undefined,
          },
        });
      }

      case "get": {
        const bundle = await deps.repo.get(scope, route.conversationId);
        if (bundle === null) refuse("not_found", "read", route.conversationId);
        return json(await itemDetail(deps, bundle, deps.flow.clock.now()));
      }

      case "retry": {
        await readOptionalJson(req);
        const result = await reparse(
          { repo: deps.repo, flow: deps.flow },
          scope,
          route.conversationId,
          "review",
        );
        if (result.result === "refused") refuse(result.reason, "retry", route.conversationId);
        logger.info("review_retried", {
          conversation_id: route.conversationId,
          actor,
          result: result.result,
        });
        const bundle = await deps.repo.get(scope, route.conversationId);
        return json({ result, item: bundle?.item ?? null }, retryStatus(result));
      }

      case "resolve": {
        const body = parseResolveRequest(await readJsonBody(req, z.unknown(), MAX_RESOLVE_BODY_BYTES));
        const reviewedBy = reviewer(caller, body.reviewedBy);
        const now = deps.flow.clock.now();
        const refusal = await resolveItem(deps, scope, route.conversationId, body.conversation, {
          reviewedBy,
          notes: body.notes,
          parserVersion: deps.flow.parserVersion,
          now,
        });
        if (refusal !== null) refuse(refusal, "resolve", route.conversationId);
        logger.info("review_resolved", {
          conversation_id: route.conversationId,
          actor,
          reviewed_by: reviewedBy,
        });
        const bundle = await deps.repo.get(scope, route.conversationId);
        return json({ item: bundle?.item ?? null });
      }

      case "dismiss": {
        const body = parseDismissRequest(await readJsonBody(req, z.unknown()));
        const reviewedBy = reviewer(caller, body.reviewedBy);
        const refusal = await deps.repo.dismiss(scope, route.conversationId, {
          reviewedBy,
          reason: body.reason,
          now: deps.flow.clock.now(),
        });
        if (refusal !== null) refuse(refusal, "dismiss", route.conversationId);
        logger.info("review_dismissed", {
          conversation_id: route.conversationId,
          actor,
          reviewed_by: reviewedBy,
        });
        const bundle = await deps.repo.get(scope, route.conversationId);
        return json({ item: bundle?.item ?? null });
      }

      case "health": {
        if (!seesAll(caller)) {
          throw appError("forbidden", "Cannot read the pipeline's health: it requires the reviewer role");
        }
        return json(await readReviewHealth({ ...deps.health, clock: deps.flow.clock }));
      }

      case "retry_all": {
        if (caller.kind !== "service") {
          throw appError("forbidden", "Cannot run retry-all: it requires the service role key");
        }
        const request = parseRetryAllRequest(await readOptionalJson(req));
        const response = await runRetryAll({
          repo: deps.repo,
          parserVersion: deps.flow.parserVersion,
          reparse: (id) => reparse({ repo: deps.repo, flow: deps.flow }, { userId: null }, id, "retry_all"),
          clock: deps.flow.clock,
          budgetMs: deps.retryAllBudgetMs,
        }, request);
        logger.info("review_retry_all", {
          dry_run: response.dry_run,
          force: response.force,
          processed: response.processed,
          results: response.results,
          remaining: response.remaining,
        });
        return json(response);
      }
    }
  };
}
