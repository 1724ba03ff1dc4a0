/**
 * Re-parse one conversation from the review queue with the current parser: the review side only makes the row
 * claimable again (`parse_failed` → `raw_stored`, guarded in SQL), then hands it to the parse flow's own
 * `parseConversation` — the same claim, download, sha256 check, parse, final file and finish as a trigger-woken
 * parse, with `triggered_by` = `review` or `retry_all` in the attempts log. There is no second parse flow.
 *
 * Between the requeue and the claim the sweeper may take the row first; then the claim here is a no-op
 * (`skipped`, `not_claimable`) and the sweeper's parse writes the outcome — nothing is parsed twice.
 *
 * called by: shared/review/handler.ts (POST …/retry), shared/review/retry_all.ts;
 * next: shared/parse_flow/parse_conversation.ts.
 */
import {
  parseConversation,
  type ParseFlowDeps,
  type ParseItemResult,
} from "../parse_flow/parse_conversation.ts";
import type { ParseTrigger } from "../parse_flow/parse_queue.ts";
import { isUnavailable } from "../pipeline/failures.ts";
import type { Refusal, RepoScope, ReviewRepo } from "./repo.ts";

export type ReparseResult =
  | ParseItemResult
  /** The row was not requeued: not the caller's, not in review, or its raw response is gone. */
  | { conversation_id: string; result: "refused"; reason: Refusal };

export interface ReparseDeps {
  readonly repo: ReviewRepo;
  readonly flow: ParseFlowDeps;
}

/**
 * Requeues one review item (scoped to the caller) and runs the parse flow on it. A refusal from the repo
 * (`not_found`, `not_in_review`, `raw_unavailable`) is returned as `refused`, nothing changed; a transient
 * database failure during the requeue is `error`/`database_unavailable`; any other requeue error is thrown.
 * After the requeue it answers exactly what `parseConversation` answers.
 */
export async function reparse(
  deps: ReparseDeps,
  scope: RepoScope,
  conversationId: string,
  triggeredBy: Extract<ParseTrigger, "review" | "retry_all">,
): Promise<ReparseResult> {
  let refusal: Refusal | null;
  try {
    refusal = await deps.repo.requeue(scope, conversationId, deps.flow.clock.now());
  } catch (err) {
    // Same contract as parseConversation: a database outage is a result (nothing changed), not a crash. The
    // repo's adapter has already translated the driver's failure into the domain's InfraFailure.
    if (!isUnavailable(err)) throw err;
    return { conversation_id: conversationId, result: "error", error_code: "database_unavailable" };
  }
  if (refusal !== null) return { conversation_id: conversationId, result: "refused", reason: refusal };
  return await parseConversation(deps.flow, conversationId, triggeredBy);
}
