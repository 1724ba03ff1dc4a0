/** What the batch integration tests share: a conversation row as generate-batch inserts it. */
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
