/**
 * Phase 2 of the generate flow: the Claude call, with a long stream checkpointed into raw_response_spool
 * (shared/generate/checkpoint.ts) while it runs. A checkpoint still being written lands before this phase
 * returns, so it can never overwrite the final answer's write-ahead. When Claude fails after its retries the row
 * becomes `generation_failed` here; nothing was returned, so nothing is lost.
 *
 * used by: shared/generate/generate.ts; next: shared/generate/persist_raw.ts
 */
import type { ClaudeAnswer, ClaudeClient, ClaudeFailure } from "./claude_client.ts";
import type { ConversationRepo } from "./conversation_repo.ts";
import type { GenerateSettings } from "./config.ts";
import type { PreparedConversation } from "./prepare.ts";
import { type CheckpointStats, StreamCheckpointer } from "./checkpoint.ts";
import { logger } from "../log.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { PhaseTimer } from "../http/server_timing.ts";
import { conversationJsonSchema } from "../parse/schema.ts";

export interface CallClaudeDeps {
  repo: ConversationRepo;
  claude: ClaudeClient;
  clock: Clock;
  config: GenerateSettings;
}

/**
 * `answered`: Claude's answer, verbatim, with what the write-ahead needs to measure and record it — `truncated`
 * (a cut stream, or a stop at the token or context limit), `lastByteAt` (monotonic time of the last stream
 * event, where the in-memory window starts) and the checkpoints written on the way, final once the last one in
 * flight has landed (`checkpointsClosed`, which the write-ahead awaits before its statement).
 */
export type ClaudeCall =
  | {
    kind: "answered";
    answer: ClaudeAnswer;
    truncated: boolean;
    lastByteAt: number;
    /** Final once `checkpointsClosed` has resolved. */
    checkpoints: CheckpointStats;
    /** Resolves when no checkpoint can be written any more (the one in flight, if any, has landed). */
    checkpointsClosed: Promise<void>;
  }
  | { kind: "failed"; failure: ClaudeFailure };

/** A call that answered: what the later phases store and describe. */
export type ClaudeAnswered = Extract<ClaudeCall, { kind: "answered" }>;

/**
 * Calls Claude for a prepared conversation. Never throws for Claude's own failures: they come back as `failed`
 * after the row is marked `generation_failed` (or, with the database down too, left `generating` for the
 * monitor to report).
 */
export async function callClaude(
  deps: CallClaudeDeps,
  conversation: PreparedConversation,
  timer: PhaseTimer,
): Promise<ClaudeCall> {
  const { repo, clock, config } = deps;
  const { conversationId, userId, prompt } = conversation;
  const checkpointer = new StreamCheckpointer(repo, config, conversationId, () => clock.monotonic());
  const result = await timer.time("claude", () =>
    deps.claude.generate({
      onProgress: checkpointer.onProgress,
      model: config.model,
      system: prompt.system,
      prompt: prompt.prompt,
      maxTokens: conversation.maxTokens,
      outputSchema: conversationJsonSchema,
      plainJsonInstructions: prompt.plainJsonInstructions,
      userId,
      conversationId,
    }));
  const claudeReturnedAt = clock.monotonic();
  // A checkpoint still being written must land before the final write-ahead, never after it. The answer's
  // phase awaits it (`checkpointsClosed`) only after arming the log-ahead, so the wait never widens the window
  // in which the complete answer exists only in memory.
  const checkpointsClosed = checkpointer.close();

  if (!result.ok) {
    await checkpointsClosed;
    await recordFailure(deps, timer, conversationId, result.failure);
    return { kind: "failed", failure: result.failure };
  }
  const answer = result.answer;
  return {
    kind: "answered",
    answer,
    truncated: answer.truncated || answer.stopReason === "max_tokens" ||
      answer.stopReason === "model_context_window_exceeded",
    lastByteAt: checkpointer.lastEventAt ?? claudeReturnedAt,
    checkpoints: checkpointer.stats,
    checkpointsClosed,
  };
}

async function recordFailure(
  deps: CallClaudeDeps,
  timer: PhaseTimer,
  conversationId: string,
  failure: ClaudeFailure,
): Promise<void> {
  const error = describeFailure(failure);
  logger.error("generation_failed", { conversation_id: conversationId, error, status: failure.status });
  try {
    await timer.time("db", () => deps.repo.markGenerationFailed(conversationId, error, failure.attempts));
  } catch (err) {
    // The row stays `generating`; the monitor reports rows stuck there. Nothing was returned, so nothing is lost.
    logger.error("generation_failed_unrecorded", { conversation_id: conversationId, error: err as Error });
  }
}

function describeFailure(f: ClaudeFailure): string {
  const what = [f.status, f.errorType].filter((x) => x !== null).join(" ") || "no answer";
  return `Claude call failed after ${f.attempts} attempt(s): ${what}: ${f.message}`.slice(0, 1000);
}
