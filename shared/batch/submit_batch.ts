/**
 * The submit flow of generate-batch: every request becomes a `batch_queued` conversation at once, its prompt
 * assembled exactly as generate-conversation assembles it (shared/generate/prompt.ts), and all of them go to
 * Claude as ONE Message Batch with `custom_id` = the conversation id.
 *
 *   idempotency check → budget (N request units + the sum of max_tokens, both or neither) → scaffolding per
 *   distinct combination (404 when missing) → prompts → ONE transaction: batch row `submitting` + N rows
 *   `batch_queued` → messages.batches.create → batch `in_progress` with its Anthropic id
 *
 * A refused create (or no answer) fails the batch and its conversations (`generation_failed`, the error
 * recorded) and gives the budget back; a worker that dies between the insert and the create's answer leaves a
 * `submitting` batch that the collector fails after BATCH_STALE_SUBMIT_MS (docs/BATCHES.md "States").
 *
 * called by: shared/batch/handle_generate_batch.ts; next: the collector (shared/batch/collect_batches.ts)
 */
import { appError } from "../errors.ts";
import { logger } from "../log.ts";
import { conversationJsonSchema } from "../parse/schema.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { ConversationRepo, NewConversation } from "../generate/conversation_repo.ts";
import { validateScaffolding } from "../generate/prepare.ts";
import { buildPrompt, type BuiltPrompt, type Scaffolding, scaffoldingSnapshot } from "../generate/prompt.ts";
import { type GenerateRequest, requestHash } from "../generate/request.ts";
import { rateLimitedError } from "../generate/usage_budget.ts";
import type { BatchApi, BatchRequestItem } from "./batch_api.ts";
import { type BatchBody, messageParams } from "./batch_request.ts";
import type { BatchRecord, BatchStore } from "./batch_store.ts";

export interface SubmitDeps {
  repo: Pick<ConversationRepo, "userExists" | "loadScaffolding">;
  store: BatchStore;
  api: BatchApi;
  clock: Clock;
  model: string;
  defaultMaxTokens: number;
  /** Ask for `output_config.format` (structured outputs); else the plain-JSON instructions. */
  structuredOutputs: boolean;
  newId?: () => string;
}

export interface SubmitInput {
  body: BatchBody;
  userId: string;
  userMustExist: boolean;
  isService: boolean;
  idempotencyKey: string | null;
  requestHash: string;
}

/** The 202 body (and the 200 of a replay). */
export interface SubmittedBatch {
  batch_id: string;
  anthropic_batch_id: string | null;
  state: string;
  request_count: number;
  conversation_ids: string[];
}

export type SubmitOutcome =
  | { kind: "accepted"; batch: SubmittedBatch }
  | { kind: "replayed"; batch: SubmittedBatch };

function scaffoldingKey(r: GenerateRequest): string {
  return [r.persona_id, r.emotional_arc_id, r.training_topic_id, r.template_id ?? "", r.tier].join("|");
}

async function replay(store: BatchStore, existing: BatchRecord, hash: string): Promise<SubmitOutcome> {
  if (existing.requestHash !== hash) {
    throw appError(
      "conflict",
      "Cannot reuse the Idempotency-Key: it was first used with a different batch",
      { batch_id: existing.id },
    );
  }
  return {
    kind: "replayed",
    batch: {
      batch_id: existing.id,
      anthropic_batch_id: existing.anthropicBatchId,
      state: existing.state,
      request_count: existing.requestCount,
      conversation_ids: await store.conversationIds(existing.id),
    },
  };
}

/** Loads and checks each distinct scaffolding combination once, and builds its prompt once. */
async function promptsFor(
  deps: SubmitDeps,
  requests: GenerateRequest[],
): Promise<Map<string, { scaffolding: Scaffolding; built: BuiltPrompt }>> {
  const out = new Map<string, { scaffolding: Scaffolding; built: BuiltPrompt }>();
  for (const r of requests) {
    const key = scaffoldingKey(r);
    if (out.has(key)) continue;
    const rows = await deps.repo.loadScaffolding({
      personaId: r.persona_id,
      emotionalArcId: r.emotional_arc_id,
      trainingTopicId: r.training_topic_id,
      templateId: r.template_id ?? null,
      tier: r.tier,
    });
    const scaffolding = validateScaffolding(rows, r);
    out.set(key, { scaffolding, built: buildPrompt(scaffolding, conversationJsonSchema) });
  }
  return out;
}

/**
 * Submits one batch. Throws `conflict` (key reused with another batch), `not_found` (user or scaffolding),
 * `rate_limited` (budget), `upstream_unavailable` / `upstream_failed` (Anthropic refused or did not answer the
 * create: the batch and its conversations are then `failed` / `generation_failed`, with `batch_id` in details).
 */
export async function submitBatch(deps: SubmitDeps, input: SubmitInput): Promise<SubmitOutcome> {
  const { store, clock } = deps;
  const { body, userId } = input;
  if (input.idempotencyKey !== null) {
    const existing = await store.findByIdempotencyKey(userId, input.idempotencyKey);
    if (existing) return replay(store, existing, input.requestHash);
  }
  if (input.userMustExist && !(await deps.repo.userExists(userId))) {
    throw appError("not_found", `Cannot generate for user ${userId}: no such user`);
  }
  const prompts = await promptsFor(deps, body.requests);
  const maxTokensOf = (r: GenerateRequest) => r.max_tokens ?? deps.defaultMaxTokens;
  const tokens = body.requests.reduce((sum, r) => sum + maxTokensOf(r), 0);
  const reservation = await store.reserve({
    userId,
    requests: body.requests.length,
    tokens,
    isService: input.isService,
  });
  if (!reservation.allowed) throw rateLimitedError(reservation, clock.now());
  const giveBack = async () => {
    if (reservation.tokensCharged && reservation.tokensWindowStart !== null) {
      await store.releaseTokens(userId, reservation.tokensWindowStart, tokens).catch((err) =>
        logger.warn("batch_budget_release_failed", { user_id: userId, error: err as Error })
      );
    }
  };

  const newId = deps.newId ?? (() => crypto.randomUUID());
  const batchId = newId();
  const now = clock.now();
  const conversations: NewConversation[] = [];
  const items: BatchRequestItem[] = [];
  for (const r of body.requests) {
    const { scaffolding, built } = prompts.get(scaffoldingKey(r))!;
    const conversationId = newId();
    const maxTokens = maxTokensOf(r);
    conversations.push({
      conversationId,
      userId,
      personaId: scaffolding.persona.id,
      emotionalArcId: scaffolding.arc.id,
      trainingTopicId: scaffolding.topic.id,
      templateId: built.templateId,
      personaKey: scaffolding.persona.persona_key,
      emotionalArcKey: scaffolding.arc.arc_key,
      topicKey: scaffolding.topic.topic_key,
      tier: r.tier,
      snapshot: {
        ...scaffoldingSnapshot(scaffolding, built, {
          model: deps.model,
          maxTokens,
          requestedTemperature: r.temperature ?? null,
          generatedAt: now,
        }),
        batch: { batch_id: batchId, structured_outputs: deps.structuredOutputs },
      },
      model: deps.model,
      idempotencyKey: null,
      requestHash: await requestHash(r),
    });
    items.push({
      custom_id: conversationId,
      params: messageParams({
        model: deps.model,
        maxTokens,
        system: built.system,
        prompt: built.prompt,
        plainJsonInstructions: built.plainJsonInstructions,
        outputSchema: deps.structuredOutputs ? conversationJsonSchema : null,
        userId,
      }),
    });
  }

  const inserted = await store.insertBatch({
    batchId,
    userId,
    model: deps.model,
    requestCount: items.length,
    idempotencyKey: input.idempotencyKey,
    requestHash: input.requestHash,
    tokensReserved: reservation.tokensCharged ? tokens : 0,
    tokensWindowStart: reservation.tokensCharged ? reservation.tokensWindowStart : null,
    requeueOf: null,
    requeueDepth: 0,
  }, conversations).catch(async (err) => {
    await giveBack();
    throw err;
  });
  if (!inserted.inserted) {
    await giveBack();
    return replay(store, inserted.existing, input.requestHash);
  }
  logger.info("batch_submitting", { batch_id: batchId, user_id: userId, requests: items.length });

  const created = await deps.api.create(items);
  if (!created.ok) {
    const f = created.failure;
    const what = [f.status, f.errorType].filter((x) => x !== null).join(" ") || "no answer";
    const error = `batch_not_submitted: Anthropic refused the batch (${what}): ${f.message}`.slice(0, 1000);
    const failed = await store.markSubmitFailed(batchId, error);
    await giveBack();
    logger.error("batch_submit_failed", { batch_id: batchId, error, conversations: failed });
    throw appError(
      f.kind === "unavailable" ? "upstream_unavailable" : "upstream_failed",
      `Cannot submit the batch: Claude's Message Batches API answered ${what}`,
      { batch_id: batchId },
    );
  }
  const remote = created.value;
  // The batch exists at Anthropic now: record its id even through a short database outage (three tries), or
  // it would run unwatched once the stale-submit rule fails its rows (docs/BATCHES.md "Known limits").
  const recorded = { id: remote.id, expiresAt: remote.expiresAt, createdAt: remote.createdAt };
  for (let attempt = 1;; attempt++) {
    try {
      await store.markSubmitted(batchId, recorded);
      break;
    } catch (err) {
      logger.error("batch_submitted_unrecorded", {
        batch_id: batchId,
        anthropic_batch_id: remote.id,
        attempt,
        error: err as Error,
      });
      if (attempt >= 3) throw err;
      await clock.sleep(500 * attempt);
    }
  }
  logger.info("batch_submitted", {
    batch_id: batchId,
    anthropic_batch_id: remote.id,
    requests: items.length,
  });
  return {
    kind: "accepted",
    batch: {
      batch_id: batchId,
      anthropic_batch_id: remote.id,
      state: "in_progress",
      request_count: items.length,
      conversation_ids: conversations.map((c) => c.conversationId),
    },
  };
}
