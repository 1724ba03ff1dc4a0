/**
 * A reviewer's corrected conversation becomes the row's final file: the repo locks the row (in review, in the
 * caller's scope), the shared final-file writer (shared/parse_flow/final_file.ts, the same one the parse flow
 * uses) uploads the file while the lock is held, then the row is marked completed with an attempts-log row, in
 * one transaction. A Storage failure rolls the transaction back and answers 503: the row stays in review.
 *
 * called by: shared/review/handler.ts (POST …/{id}/resolve); next: ReviewRepo.resolve
 * (shared/adapters/postgres_review_repo.ts), shared/parse_flow/final_file.ts.
 */
import { appError } from "../errors.ts";
import type { Conversation } from "../parse/mod.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { writeFinalFile } from "../parse_flow/final_file.ts";
import type { Refusal, RepoScope, ResolveInput, ReviewRepo } from "./repo.ts";

export interface ResolveDeps {
  readonly repo: ReviewRepo;
  readonly store: ObjectStore;
}

/**
 * Resolves one item with `conversation`; null when done, or the refusal (not found, not in review, unknown
 * reviewer) with nothing written. Throws 503 `upstream_unavailable` when Storage does not take the file.
 */
export async function resolveItem(
  deps: ResolveDeps,
  scope: RepoScope,
  conversationId: string,
  conversation: Conversation,
  input: ResolveInput,
): Promise<Refusal | null> {
  return await deps.repo.resolve(scope, conversationId, input, async (target) => {
    const written = await writeFinalFile(deps.store, target, conversation);
    if (!written.ok) {
      throw appError(
        "upstream_unavailable",
        `Cannot store the final file ${written.path}: ${written.detail}`,
      );
    }
    return {
      filePath: written.path,
      fileSize: written.final.bytes.byteLength,
      turnCount: conversation.turns.length,
      conversationName: written.final.conversationName,
    };
  });
}
