/**
 * The review queue's URL scheme, as one table. The function is mounted at `/functions/v1/review-queue`;
 * hosted Supabase hands the worker `/review-queue/...` and the local gateway may keep the `/functions/v1`
 * prefix, so matching starts after the `review-queue` segment wherever it is.
 *
 *   GET  /review-queue                         list (filters, cursor)        -> "list"
 *   GET  /review-queue/{conversation_id}       one item, attempts, raw URL   -> "get"
 *   POST /review-queue/{conversation_id}/retry                               -> "retry"
 *   POST /review-queue/{conversation_id}/resolve                             -> "resolve"
 *   POST /review-queue/{conversation_id}/dismiss                             -> "dismiss"
 *   POST /review-queue/retry-all               service role only             -> "retry_all"
 *   GET  /review-queue/health                  reviewers and the service     -> "health"
 *
 * called by: shared/review/handler.ts
 */
import { appError } from "../errors.ts";

export const FUNCTION_NAME = "review-queue";

export type ReviewRoute =
  | { readonly kind: "list" }
  | { readonly kind: "retry_all" }
  | { readonly kind: "health" }
  | { readonly kind: "get" | "retry" | "resolve" | "dismiss"; readonly conversationId: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Path tail (segments after `review-queue`) + method → route; 404 for an unknown path, 405 for a wrong verb. */
export function matchRoute(method: string, pathname: string): ReviewRoute {
  const segments = pathname.split("/").filter((s) => s !== "");
  const at = segments.lastIndexOf(FUNCTION_NAME);
  const tail = at === -1 ? segments : segments.slice(at + 1);

  if (tail.length === 0) return allow(method, ["GET"], { kind: "list" });
  if (tail.length === 1 && tail[0] === "retry-all") return allow(method, ["POST"], { kind: "retry_all" });
  if (tail.length === 1 && tail[0] === "health") return allow(method, ["GET"], { kind: "health" });

  const id = tail[0];
  if (tail.length > 2) throw unknownPath(pathname);
  if (!UUID.test(id)) {
    throw appError("bad_request", `Cannot read conversation id "${id.slice(0, 40)}": it must be a uuid`);
  }
  const conversationId = id.toLowerCase();
  if (tail.length === 1) return allow(method, ["GET"], { kind: "get", conversationId });
  switch (tail[1]) {
    case "retry":
      return allow(method, ["POST"], { kind: "retry", conversationId });
    case "resolve":
      return allow(method, ["POST"], { kind: "resolve", conversationId });
    case "dismiss":
      return allow(method, ["POST"], { kind: "dismiss", conversationId });
    default:
      throw unknownPath(pathname);
  }
}

function allow<R extends ReviewRoute>(method: string, allowed: string[], route: R): R {
  if (!allowed.includes(method)) {
    throw appError("method_not_allowed", `Cannot ${method} this endpoint: use ${allowed.join(" or ")}`, {
      allow: allowed.join(", "),
    });
  }
  return route;
}

function unknownPath(pathname: string): Error {
  return appError(
    "not_found",
    `Cannot route ${pathname.slice(0, 120)}: the review queue has no such endpoint`,
  );
}
