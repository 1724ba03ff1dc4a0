/**
 * Phase 4 of the generate flow: what the client is told, from where the bytes ended up (persist_raw.ts). An
 * uploaded answer waits a little for the parse result (polling the row, up to the request's budget); a spooled
 * one reads the row once; an answer whose row cannot be trusted (the database was down, or the bytes are held
 * in the write-ahead copy while the row still says `generating`) is described from what this worker knows.
 * Every view goes through the one builder (shared/generate/view.ts), with the warnings the earlier phases
 * collected and those that follow from where the bytes are.
 *
 * used by: shared/generate/generate.ts
 */
import type { ConversationRepo, ConversationState } from "./conversation_repo.ts";
import type { ClaudeAnswered } from "./call_claude.ts";
import type { RawPersisted } from "./persist_raw.ts";
import { type ConversationView, conversationView } from "./view.ts";
import { logger } from "../log.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { PhaseTimer } from "../http/server_timing.ts";

export interface AnswerDeps {
  repo: ConversationRepo;
  clock: Clock;
}

/** `created`: 201 with the view. `unsaved`: the bytes are only in the function logs (503 with the id). */
export type Answer =
  | { kind: "created"; view: ConversationView }
  | { kind: "unsaved"; conversationId: string };

/** Statuses after which waiting longer cannot change the answer. */
const SETTLED = new Set(["completed", "parse_failed", "generation_failed", "raw_spooled"]);

/** The client's answer for a conversation whose bytes are where `persisted` says. Never throws. */
export async function answer(
  deps: AnswerDeps,
  conversation: { conversationId: string; warnings: readonly string[]; parseWaitMs: number },
  call: ClaudeAnswered,
  persisted: RawPersisted,
  timer: PhaseTimer,
): Promise<Answer> {
  const { conversationId } = conversation;
  if (persisted.kind === "unsaved") return { kind: "unsaved", conversationId };
  const warnings = [...conversation.warnings, ...warningsFor(call, persisted)];
  // What this worker knows without the row: the object's path once it is stored, and whether Claude's answer was
  // cut short.
  const known = (processing_status: string, raw_response_path: string | null) =>
    conversationView(
      { conversation_id: conversationId, processing_status, raw_response_path, truncated: call.truncated },
      warnings,
    );
  switch (persisted.kind) {
    case "uploaded":
    case "late": {
      // The object row and the trigger's status change commit in one transaction on the Storage side.
      if (persisted.databaseDown) return { kind: "created", view: known("raw_stored", persisted.path) };
      const state = await waitForParse(deps, timer, conversationId, conversation.parseWaitMs);
      return {
        kind: "created",
        view: state ? fromRow(state, persisted.path, warnings) : known("raw_stored", persisted.path),
      };
    }
    case "spooled": {
      const state = await deps.repo.readState(conversationId).catch(() => null);
      return { kind: "created", view: state ? fromRow(state, null, warnings) : known("raw_spooled", null) };
    }
    case "held":
      // The row says `generating` until the flush; the bytes are what raw_spooled means.
      return { kind: "created", view: known("raw_spooled", null) };
  }
}

function fromRow(state: ConversationState, path: string | null, warnings: string[]): ConversationView {
  return conversationView({ ...state, raw_response_path: state.raw_response_path ?? path }, warnings);
}

/** The warnings that follow from Claude's answer and from where its bytes are, in the order they arose. */
function warningsFor(call: ClaudeAnswered, persisted: RawPersisted): string[] {
  const out: string[] = [];
  if (call.answer.truncated) {
    out.push(`the response stream ended early (${call.answer.truncation}); what arrived is stored`);
  }
  if (persisted.kind === "spooled") {
    out.push("Storage is unavailable: the raw response is spooled in the database and will be uploaded");
  }
  if (persisted.kind === "held") {
    out.push(
      "Storage is unavailable: the raw response is held in the database (written ahead) and will be uploaded",
    );
  }
  if ((persisted.kind === "uploaded" || persisted.kind === "late") && persisted.databaseDown) {
    out.push("the database was unavailable: the row is rebuilt from the stored object");
  }
  return out;
}

/**
 * Polls the row until the parse settled it or the budget is spent. A read that fails ends the wait with the last
 * state read (null when none was): the answer falls back to what the worker knows.
 */
async function waitForParse(
  deps: AnswerDeps,
  timer: PhaseTimer,
  conversationId: string,
  waitMs: number,
): Promise<ConversationState | null> {
  const { repo, clock } = deps;
  return await timer.time("parse_wait", async () => {
    const deadline = clock.monotonic() + waitMs;
    let interval = 50;
    let state: ConversationState | null = null;
    while (true) {
      try {
        state = await repo.readState(conversationId);
      } catch (err) {
        logger.warn("parse_wait_read_failed", { conversation_id: conversationId, error: err as Error });
        return state;
      }
      if (!state || SETTLED.has(state.processing_status)) return state;
      const left = deadline - clock.monotonic();
      if (left <= 0) return state;
      await clock.sleep(Math.min(interval, left));
      interval = Math.min(250, Math.round(interval * 1.5));
    }
  });
}
