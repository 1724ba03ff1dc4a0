/** What the batch integration tests share: a batch row and a conversation row as generate-batch inserts them. */
import type { NewBatch } from "../../../shared/batch/batch_store.ts";
import type { NewConversation } from "../../../shared/generate/conversation_repo.ts";
import { SEED } from "../generate/_helpers.ts";

/** A `batch_queued` conversation for `userId` on the seeded scaffolding; its reservation is max_tokens 4000. */
export function batchConversation(userId: string): NewConversation {
  return {
    conversationId: crypto.randomUUID(),
    userId,
    personaId: SEED.persona,
    emotionalArcId: SEED.arc,
    trainingTopicId: SEED.topic,
    templateId: null,
    personaKey: "p",
    emotionalArcKey: "a",
    topicKey: "t",
    tier: "template",
    // As generate-batch records it: the request's max_tokens is what its reservation holds.
    snapshot: { prompt: "p", max_tokens: 4000 },
    model: "claude-sonnet-4-5",
    idempotencyKey: null,
    requestHash: "b".repeat(64),
  };
}

/** A batch row of three requests for `userId`, nothing reserved, not a re-queue; `over` changes any field. */
export function newBatch(userId: string, over: Partial<NewBatch> = {}): NewBatch {
  return {
    batchId: crypto.randomUUID(),
    userId,
    model: "claude-sonnet-4-5",
    requestCount: 3,
    idempotencyKey: null,
    requestHash: "a".repeat(64),
    tokensReserved: 0,
    tokensWindowStart: null,
    requeueOf: null,
    requeueDepth: 0,
    ...over,
  };
}
