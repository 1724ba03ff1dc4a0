/**
 * The generate flow, raw first: nothing Claude returns is parsed here, and nothing it returns is dropped. Four
 * named phases, each in its own file:
 *
 *   1. prepare (prepare.ts): idempotency check → acting user → scaffolding (404 when missing or inactive) →
 *      prompt → row `generating`; or the replay of the conversation the Idempotency-Key already names.
 *   2. call Claude (call_claude.ts): long streams checkpointed into raw_response_spool; a failure after retries
 *      marks the row `generation_failed` → 502/503 with the id.
 *   3. persist raw (persist_raw.ts): the write-ahead (bytes + metadata in one statement, write_ahead.ts) → the
 *      write-once upload (raw_upload.ts) → else the spool → else the write-ahead copy → else the function logs;
 *      its result says which: `uploaded | late | spooled | held | unsaved`.
 *   4. answer (answer.ts): wait for the parse result up to a budget, or describe what this worker knows; one view
 *      builder (view.ts).
 *
 * The answer exists only in this worker's memory from its last byte to the write-ahead's commit (measured:
 * `memory_window_ms` in the `raw_written_ahead` log line, `write_ahead` in Server-Timing). A kill at any later
 * point leaves the bytes in the spool, and the sweeper's flush stores them once the lease ends. Failure paths:
 * docs/GENERATE.md, "Never losing a response".
 *
 * called by: shared/generate/handler.ts; next: the storage trigger on_raw_object_stored → parse-conversation
 */
import type { ClaudeClient, ClaudeFailure } from "./claude_client.ts";
import type { ConversationRepo } from "./conversation_repo.ts";
import type { GenerateSettings } from "./config.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { PhaseTimer } from "../http/server_timing.ts";
import { type GenerateInput, prepare } from "./prepare.ts";
import { callClaude } from "./call_claude.ts";
import { persistRaw } from "./persist_raw.ts";
import { answer } from "./answer.ts";
import type { ConversationView } from "./view.ts";
import { type WorkerLoad, workerLoad } from "./worker_load.ts";

export type { GenerateInput } from "./prepare.ts";
export type { ConversationView } from "./view.ts";

export interface GenerateDeps {
  repo: ConversationRepo;
  store: ObjectStore;
  claude: ClaudeClient;
  clock: Clock;
  config: GenerateSettings;
  newId?: () => string;
  /** This worker's generations in flight (default: the isolate's own counter, shared/generate/worker_load.ts). */
  load?: WorkerLoad;
}

export type GenerateOutcome =
  | { kind: "created"; view: ConversationView }
  | { kind: "replayed"; view: ConversationView }
  | { kind: "claude_failed"; conversationId: string; failure: ClaudeFailure }
  | { kind: "unsaved"; conversationId: string };

/**
 * One generation, phase by phase. Throws only before Claude is called (404, 409, 503 to retry: nothing can be
 * lost yet); from Claude's answer on, every failure is an outcome, and the answer's bytes are durable somewhere
 * unless the outcome is `unsaved` (then they are in the function logs).
 */
export async function generateConversation(
  deps: GenerateDeps,
  input: GenerateInput,
  timer: PhaseTimer,
): Promise<GenerateOutcome> {
  const prepared = await prepare(deps, input, timer);
  if (prepared.kind === "replayed") return prepared;
  const conversation = prepared.conversation;
  const load = deps.load ?? workerLoad;
  const leave = load.enter();
  let persisted;
  try {
    const call = await callClaude(deps, conversation, timer);
    if (call.kind === "failed") {
      return { kind: "claude_failed", conversationId: conversation.conversationId, failure: call.failure };
    }
    persisted = { call, raw: await persistRaw({ ...deps, load }, conversation, call, timer) };
  } finally {
    leave();
  }
  const { call, raw } = persisted;
  return await answer(deps, { ...conversation, parseWaitMs: input.parseWaitMs }, call, raw, timer);
}
