/**
 * Phase 1 of the generate flow, everything before Claude: the idempotency check, the acting user, the
 * scaffolding (404 when missing or inactive), the prompt, and the row `generating`. Nothing has been asked of
 * Claude yet, so nothing can be lost here: a database that is unavailable is a 503 to retry, and the adapter
 * has already said so (`InfraFailure("database_unavailable")`, shared/adapters/postgres_conversation_repo.ts)
 * — no SQLSTATE is looked at in this folder.
 *
 * used by: shared/generate/generate.ts; next: shared/generate/call_claude.ts
 */
import type { z } from "zod";
import type { ConversationRepo, ConversationState } from "./conversation_repo.ts";
import type { GenerateSettings } from "./config.ts";
import type { GenerateRequest } from "./request.ts";
import { appError } from "../errors.ts";
import { logger } from "../log.ts";
import { isUnavailable } from "../pipeline/failures.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { PhaseTimer } from "../http/server_timing.ts";
import { conversationJsonSchema } from "../parse/schema.ts";
import {
  buildPrompt,
  type BuiltPrompt,
  EmotionalArcRowSchema,
  PersonaRowSchema,
  PromptTemplateRowSchema,
  type Scaffolding,
  scaffoldingSnapshot,
  TrainingTopicRowSchema,
} from "./prompt.ts";
import { type ConversationView, conversationView } from "./view.ts";

export interface PrepareDeps {
  repo: ConversationRepo;
  clock: Clock;
  config: GenerateSettings;
  newId?: () => string;
}

export interface GenerateInput {
  request: GenerateRequest;
  userId: string;
  /** The service key named this user with x-user-id: check that the user exists. */
  userMustExist: boolean;
  idempotencyKey: string | null;
  requestHash: string;
  /** How long to wait for the parse result, already bounded by the configured budget. */
  parseWaitMs: number;
}

/** A conversation whose row is `generating`: what the later phases need to call Claude and answer. */
export interface PreparedConversation {
  conversationId: string;
  userId: string;
  prompt: BuiltPrompt;
  maxTokens: number;
  /** Said to the client with the answer (a parameter that was recorded but not sent). */
  warnings: string[];
}

/** `replayed`: the Idempotency-Key already has its conversation (same body), shown as it is now. */
export type Prepared =
  | { kind: "replayed"; view: ConversationView }
  | { kind: "ready"; conversation: PreparedConversation };

/**
 * Runs every step before Claude and ends with the row `generating`, or with the replay of the conversation the
 * Idempotency-Key already names. Throws the client's errors: 404 (no user, no active scaffolding), 409 (the key
 * reused with another body), 503 (the database is unavailable: nothing was lost, retry).
 */
export async function prepare(
  deps: PrepareDeps,
  input: GenerateInput,
  timer: PhaseTimer,
): Promise<Prepared> {
  const { repo, clock, config } = deps;
  const { request, userId } = input;

  if (input.idempotencyKey !== null) {
    const key = input.idempotencyKey;
    const existing = await beforeClaude(timer, () => repo.findByIdempotencyKey(userId, key));
    if (existing) return replayOrConflict(existing, input.requestHash);
  }
  if (input.userMustExist && !(await beforeClaude(timer, () => repo.userExists(userId)))) {
    throw appError("not_found", `Cannot generate for user ${userId}: no such user`);
  }

  const rows = await beforeClaude(timer, () =>
    repo.loadScaffolding({
      personaId: request.persona_id,
      emotionalArcId: request.emotional_arc_id,
      trainingTopicId: request.training_topic_id,
      templateId: request.template_id ?? null,
      tier: request.tier,
    }));
  const scaffolding = validateScaffolding(rows, request);
  const prompt = buildPrompt(scaffolding, conversationJsonSchema);
  const maxTokens = request.max_tokens ?? config.maxTokens;
  const conversationId = (deps.newId ?? (() => crypto.randomUUID()))();
  const warnings: string[] = [];
  if (request.temperature !== undefined) {
    warnings.push(
      "temperature is recorded but not sent: the Messages API no longer accepts sampling parameters",
    );
  }
  if (prompt.unresolved.length > 0) {
    logger.warn("template_placeholders_unresolved", {
      conversation_id: conversationId,
      template_id: prompt.templateId,
      placeholders: prompt.unresolved,
    });
  }

  const inserted = await beforeClaude(timer, () =>
    repo.insertGenerating({
      conversationId,
      userId,
      personaId: scaffolding.persona.id,
      emotionalArcId: scaffolding.arc.id,
      trainingTopicId: scaffolding.topic.id,
      templateId: prompt.templateId,
      personaKey: scaffolding.persona.persona_key,
      emotionalArcKey: scaffolding.arc.arc_key,
      topicKey: scaffolding.topic.topic_key,
      tier: request.tier,
      snapshot: scaffoldingSnapshot(scaffolding, prompt, {
        model: config.model,
        maxTokens,
        requestedTemperature: request.temperature ?? null,
        generatedAt: clock.now(),
      }),
      model: config.model,
      idempotencyKey: input.idempotencyKey,
      requestHash: input.requestHash,
    }));
  if (!inserted.inserted) return replayOrConflict(inserted.existing, input.requestHash);
  logger.info("generation_started", {
    conversation_id: conversationId,
    user_id: userId,
    tier: request.tier,
    template_id: prompt.templateId,
    model: config.model,
    max_tokens: maxTokens,
  });
  return { kind: "ready", conversation: { conversationId, userId, prompt, maxTokens, warnings } };
}

function replayOrConflict(existing: ConversationState, requestHash: string): Prepared {
  if (existing.request_hash !== requestHash) {
    throw appError(
      "conflict",
      "Cannot reuse the Idempotency-Key: it was first used with a different request body",
      { conversation_id: existing.conversation_id },
    );
  }
  return { kind: "replayed", view: conversationView(existing) };
}

/**
 * Database calls before Claude: a failure there loses nothing, so an unavailable database is a 503 to retry.
 * What the adapter did not translate (a bug, or a rule it mapped to a client error) passes through as it is.
 */
async function beforeClaude<T>(timer: PhaseTimer, fn: () => Promise<T>): Promise<T> {
  try {
    return await timer.time("db", fn);
  } catch (err) {
    if (isUnavailable(err)) {
      throw appError("upstream_unavailable", "Cannot start the generation: the database is unavailable");
    }
    throw err;
  }
}

/**
 * The scaffolding rows checked the way a generation needs them: 404 `not_found` naming every missing or inactive
 * id; a row of the wrong shape is our data's fault (a plain Error, 500). Shared with generate-batch, which
 * assembles each request's prompt exactly as generate does.
 */
export function validateScaffolding(
  rows: { persona: unknown; arc: unknown; topic: unknown; template: unknown },
  request: GenerateRequest,
): Scaffolding {
  const missing: string[] = [];
  if (rows.persona === null) missing.push(`persona_id ${request.persona_id}`);
  if (rows.arc === null) missing.push(`emotional_arc_id ${request.emotional_arc_id}`);
  if (rows.topic === null) missing.push(`training_topic_id ${request.training_topic_id}`);
  if (request.template_id !== undefined && rows.template === null) {
    missing.push(`template_id ${request.template_id}`);
  }
  if (missing.length > 0) {
    throw appError("not_found", `Cannot generate: no active scaffolding for ${missing.join(", ")}`);
  }
  return {
    persona: readRow(PersonaRowSchema, rows.persona, "personas"),
    arc: readRow(EmotionalArcRowSchema, rows.arc, "emotional_arcs"),
    topic: readRow(TrainingTopicRowSchema, rows.topic, "training_topics"),
    template: rows.template === null
      ? null
      : readRow(PromptTemplateRowSchema, rows.template, "prompt_templates"),
    tier: request.tier,
  };
}

/**
 * A scaffolding row that does not match its schema is our data's fault, not the client's: a plain Error (500,
 * details in the log), never the ZodError that the HTTP mapper would turn into a 400.
 */
function readRow<T extends z.ZodType>(schema: T, row: unknown, table: string): z.infer<T> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new Error(`Cannot read a ${table} row: unexpected shape at ${paths}`);
  }
  return parsed.data;
}
