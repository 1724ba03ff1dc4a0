/**
 * The `review-queue` function's handler: route → caller → one domain call → JSON.
 *
 * Who sees what: a user JWT reaches only that user's conversations (another user's item answers 404, exactly as
 * one that does not exist); the service key reaches all of them and alone may run retry-all. The platform
 * checks the JWT's signature (`verify_jwt = true`); `resolveCaller` reads its claims.
 *
 * called by: supabase/functions/review-queue/index.ts;
 * next: shared/review/reparse.ts (retry), shared/review/retry_all.ts, shared/parse_flow/final_file.ts (resolve),
 * shared/adapters/review_repo.ts (SQL).
 */
import { finalObjectPath, type ObjectStore } from "../adapters/object_store.ts";
import { appError } from "../errors.ts";
import { type Caller, resolveCaller } from "../http/auth.ts";
import { readBodyText, readJsonBody } from "../http/request.ts";
import { json } from "../http/respond.ts";
import type { Handler } from "../http/serve.ts";
import { logger } from "../log.ts";
import { buildFinalFile } from "../parse_flow/final_file.ts";
import type { ParseFlowDeps } from "../parse_flow/parse_conversation.ts";
import { z } from "zod";
import { parseDismissRequest } from "./dismiss_request.ts";
import { encodeCursor } from "./cursor.ts";
import { parseListQuery, type Scope } from "./list_query.ts";
import { reparse, type ReparseResult } from "./reparse.ts";
import type { ItemBundle, Refusal, RepoScope, ReviewRepo } from "./repo.ts";
import { MAX_RESOLVE_BODY_BYTES, parseResolveRequest } from "./resolve_request.ts";
import { matchRoute } from "./routes.ts";
import { parseRetryAllRequest, runRetryAll } from "./retry_all.ts";

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
}

function repoScope(caller: Caller): RepoScope {
  return caller.kind === "user" ? { userId: caller.userId } : { userId: null };
}

function listScope(caller: Caller): Scope {
  return caller.kind === "user" ? { kind: "user", userId: caller.userId } : { kind: "service" };
}

/** The reviewer recorded on resolve/dismiss: a user is always themself; the service may name an operator. */
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

/** `<code>: <message>` is how the parse flow writes `parse_error_message`; the attempts log has both parts. */
export function parseErrorOf(bundle: ItemBundle): { code: string | null; message: string } | null {
  const { item, attempts } = bundle;
  if (item.processing_status === "completed") return null;
  const last = attempts[attempts.length - 1];
  if (last && last.outcome !== "parsed" && last.error_message !== null) {
    return { code: last.error_code, message: last.error_message };
  }
  if (item.parse_error_message === null) return null;
  const m = /^([a-z][a-z0-9_]*): (.*)$/s.exec(item.parse_error_message);
  return m ? { code: m[1], message: m[2] } : { code: null, message: item.parse_error_message };
}

async function detail(deps: ReviewDeps, bundle: ItemBundle, now: Date) {
  const { item } = bundle;
  let raw: Record<string, unknown>;
  if (item.raw_response_path === null) {
    raw = { available: false, reason: "not_stored", path: null };
  } else if (item.raw_deleted_at !== null) {
    raw = { available: false, reason: "deleted_by_retention", path: item.raw_response_path };
  } else {
    // Signed on demand for this response only: URLs are never stored (upstream's stored URLs expired).
    const signed = await deps.store.signedUrl(item.raw_response_path, deps.signedUrlSeconds);
    raw = signed.ok
      ? {
        available: true,
        path: item.raw_response_path,
        size: item.raw_response_size,
        sha256: item.raw_sha256,
        signed_url: signed.url,
        expires_in: deps.signedUrlSeconds,
        expires_at: new Date(now.getTime() + deps.signedUrlSeconds * 1000).toISOString(),
      }
      : { available: false, reason: "signing_failed", path: item.raw_response_path };
    if (!signed.ok) {
      logger.warn("review_sign_failed", { conversation_id: item.conversation_id, error: signed.message });
    }
  }
  return {
    item,
    parse_error: parseErrorOf(bundle),
    attempts: bundle.attempts,
    partial_result: bundle.partial,
    raw,
  };
}

async function readOptionalJson(req: Request): Promise<unknown> {
  const text = await readBodyText(req, 16 * 1024);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw appError("invalid_body", "Cannot parse the body as JSON: send an object or nothing");
  }
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
 * (`forbidden`). Refusals map to `not_found`, `not_in_review`, `conflict` (raw response gone) and
 * `invalid_body` (unknown reviewer). A retry answers 200 when this request wrote the outcome, else 202.
 */
export function handleReviewQueue(deps: ReviewDeps): Handler {
  return async (req) => {
    const url = new URL(req.url);
    // Authenticate before routing: a caller without a token learns nothing, not even which paths exist.
    const caller = resolveCaller(req, deps.serviceKeys, deps.flow.now().getTime());
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
            user_id: caller.kind === "service" ? query.userId : undefined,
          },
        });
      }

      case "get": {
        const bundle = await deps.repo.get(scope, route.conversationId);
        if (bundle === null) refuse("not_found", "read", route.conversationId);
        return json(await detail(deps, bundle, deps.flow.now()));
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
        const now = deps.flow.now();
        const refusal = await deps.repo.resolve(scope, route.conversationId, {
          reviewedBy,
          notes: body.notes,
          parserVersion: deps.flow.parserVersion,
          now,
        }, async (target) => {
          const final = buildFinalFile(body.conversation, target.scaffolding);
          const path = finalObjectPath(target.userId, target.conversationId);
          // Upsert: the final file is derived data; a resolve that failed after its upload may be sent again.
          const upload = await deps.store.upload(path, final.bytes, {
            upsert: true,
            contentType: "application/json",
          });
          if (!upload.ok) {
            const why = upload.kind === "exists" ? "it already exists" : upload.message;
            throw appError("upstream_unavailable", `Cannot store the final file ${path}: ${why}`);
          }
          return {
            filePath: path,
            fileSize: final.bytes.byteLength,
            turnCount: body.conversation.turns.length,
            conversationName: final.conversationName,
          };
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
          now: deps.flow.now(),
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
