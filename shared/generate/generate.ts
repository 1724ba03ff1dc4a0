/**
 * The generate flow, raw first: nothing Claude returns is parsed here, and nothing it returns is dropped.
 *
 *   idempotency check → scaffolding (404 when missing or inactive) → prompt → row `generating` →
 *   Claude (long streams checkpointed into raw_response_spool, shared/generate/checkpoint.ts) →
 *   WRITE-AHEAD: one statement puts the verbatim bytes in raw_response_spool (kind write_ahead) and sha256,
 *   stop_reason, model, usage, cost, truncated on the row (still `generating`) →
 *   upload raw/{user_id}/{conversation_id}.json (write-once) → drop the write-ahead copy → the storage trigger
 *   marks `raw_stored` and wakes parse-conversation → we poll the row for the parse result, up to a budget.
 *
 * The answer exists only in this worker's memory from its last byte to the write-ahead's commit (measured:
 * `memory_window_ms` in the `raw_written_ahead` log line, `write_ahead` in Server-Timing). A kill at any later
 * point leaves the bytes in the spool, and the sweeper's flush stores them once the lease ends.
 *
 * Failure paths (docs/GENERATE.md, "Never losing a response"):
 * - Claude fails after retries → row `generation_failed` with `generation_error`; 502/503 with the id.
 * - Storage fails after retries → one statement: raw_response_spool row + status `raw_spooled` (the sweeper
 *   uploads later); 201.
 * - The database fails after Claude answered → the upload still happens (the trigger and the reconciler rebuild
 *   the row from the object, which carries model, usage and stop_reason itself); 201.
 * - Both fail → the body goes to the function logs at error level, in chunks under the log line limit; 503.
 *
 * called by: shared/generate/handler.ts; next: the storage trigger on_raw_object_stored → parse-conversation
 */
import type { z } from "zod";
import type { ClaudeClient, ClaudeFailure } from "./claude_client.ts";
import type { ConversationRepo, ConversationState } from "./conversation_repo.ts";
import { isTransientDbError, translateDbError } from "../adapters/postgres_sql.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { rawObjectPath } from "../pipeline/object_paths.ts";
import { sha256Hex } from "../pipeline/sha256.ts";
import { AppError, appError } from "../errors.ts";
import { logger, RUNBOOK_LINES } from "../log.ts";
import { conversationJsonSchema } from "../parse/schema.ts";
import { estimateCostUsd } from "./cost.ts";
import {
  buildPrompt,
  EmotionalArcRowSchema,
  PersonaRowSchema,
  PromptTemplateRowSchema,
  type Scaffolding,
  scaffoldingSnapshot,
  TrainingTopicRowSchema,
} from "./prompt.ts";
import type { GenerateRequest } from "./request.ts";
import type { GenerateSettings } from "./config.ts";
import type { PhaseTimer } from "../http/server_timing.ts";
import { StreamCheckpointer } from "./checkpoint.ts";
import type { Clock } from "../pipeline/clock.ts";

export interface GenerateDeps {
  repo: ConversationRepo;
  store: ObjectStore;
  claude: ClaudeClient;
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

/** What the client gets back on success (201) and on an idempotent replay (200). */
export interface ConversationView {
  conversation_id: string;
  processing_status: string;
  raw_response_path: string | null;
  parse_method_used?: string;
  turn_count?: number;
  truncated?: boolean;
  requires_manual_review?: boolean;
  parse_error_message?: string;
  generation_error?: string;
  warnings?: string[];
}

export type GenerateOutcome =
  | { kind: "created"; view: ConversationView }
  | { kind: "replayed"; view: ConversationView }
  | { kind: "claude_failed"; conversationId: string; failure: ClaudeFailure }
  | { kind: "unsaved"; conversationId: string };

/** Statuses after which waiting longer cannot change the answer. */
const SETTLED = new Set(["completed", "parse_failed", "generation_failed", "raw_spooled"]);

/** Supabase keeps log lines up to 10,000 characters; the last-resort dump stays well under it. */
const LOG_CHUNK_CHARS = 8000;

function view(
  state: ConversationState,
  fallbackPath: string | null,
  warnings: string[] = [],
): ConversationView {
  const v: ConversationView = {
    conversation_id: state.conversation_id,
    processing_status: state.processing_status,
    raw_response_path: state.raw_response_path ?? fallbackPath,
  };
  if (state.parse_method_used !== null) v.parse_method_used = state.parse_method_used;
  if (state.turn_count !== null) v.turn_count = state.turn_count;
  if (state.truncated) v.truncated = true;
  if (state.requires_manual_review) v.requires_manual_review = true;
  if (state.parse_error_message !== null) v.parse_error_message = state.parse_error_message;
  if (state.generation_error !== null) v.generation_error = state.generation_error;
  if (warnings.length > 0) v.warnings = warnings;
  return v;
}

function replayOrConflict(existing: ConversationState, requestHash: string): GenerateOutcome {
  if (existing.request_hash !== requestHash) {
    throw appError(
      "conflict",
      "Cannot reuse the Idempotency-Key: it was first used with a different request body",
      { conversation_id: existing.conversation_id },
    );
  }
  return { kind: "replayed", view: view(existing, null) };
}

/** Database calls before Claude: a failure there loses nothing, so the client is told to retry. */
async function beforeClaude<T>(timer: PhaseTimer, fn: () => Promise<T>): Promise<T> {
  try {
    return await timer.time("db", fn);
  } catch (err) {
    if (err instanceof AppError) throw err;
    const known = translateDbError(err);
    if (known) throw known;
    if (isTransientDbError(err)) {
      throw appError("upstream_unavailable", "Cannot start the generation: the database is unavailable");
    }
    throw err;
  }
}

/**
 * The scaffolding rows checked the way a generation needs them: 404 `not_found` naming every missing or inactive
 * id; a row of the wrong shape is our data's fault (a plain Error, 500). Exported for generate-batch.
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

function describeFailure(f: ClaudeFailure): string {
  const what = [f.status, f.errorType].filter((x) => x !== null).join(" ") || "no answer";
  return `Claude call failed after ${f.attempts} attempt(s): ${what}: ${f.message}`.slice(0, 1000);
}

type UploadOutcome =
  | { ok: true; attempts: number; alreadyStored: boolean }
  | { ok: false; attempts: number; message: string };

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Write-once upload with retries. A 409 is not an error by itself: an earlier attempt that timed out on our side
 * may have landed, so the stored object is downloaded and compared — identical bytes are success, different
 * bytes are a conflict (never overwritten).
 */
async function uploadRaw(
  deps: GenerateDeps,
  path: string,
  bytes: Uint8Array,
  sha256: string,
  conversationId: string,
): Promise<UploadOutcome> {
  const { store, clock, config } = deps;
  const attemptsAllowed = config.uploadRetries + 1;
  let lastError = "no attempt made";
  for (let attempt = 1; attempt <= attemptsAllowed; attempt++) {
    const result = await withTimeout(
      store.upload(path, bytes, { upsert: false, contentType: "application/json" }),
      config.uploadTimeoutMs,
      () => ({ ok: false as const, kind: "unavailable" as const, message: "the upload timed out" }),
    );
    if (result.ok) return { ok: true, attempts: attempt, alreadyStored: false };
    if (result.kind === "exists") {
      const existing = await store.download(path);
      if (existing.ok) {
        if (await sha256Hex(existing.bytes) === sha256) {
          return { ok: true, attempts: attempt, alreadyStored: true };
        }
        return { ok: false, attempts: attempt, message: `a different object already exists at ${path}` };
      }
      lastError = existing.kind === "not_found"
        ? "the object was reported as existing but could not be found"
        : `the existing object could not be read: ${existing.message}`;
    } else if (result.kind === "rejected") {
      // 4xx-class refusals (size, mime type, permissions) will not change on retry.
      return {
        ok: false,
        attempts: attempt,
        message: `Storage refused the upload (${result.status}): ${result.message}`,
      };
    } else {
      lastError = result.message;
    }
    if (attempt < attemptsAllowed) {
      const wait = Math.min(2000, 200 * 2 ** (attempt - 1));
      logger.warn("raw_upload_retry", {
        conversation_id: conversationId,
        attempt,
        wait_ms: wait,
        error: lastError,
      });
      await clock.sleep(wait);
    }
  }
  return { ok: false, attempts: attemptsAllowed, message: lastError };
}

/**
 * The last resort when neither Storage nor the database takes the bytes: the function logs are retained by the
 * platform, so the body goes there, split into numbered chunks that reassemble by conversation_id and chunk.
 */
function logUnsavedBody(conversationId: string, userId: string, body: string, sha256: string): void {
  const chunks = Math.max(1, Math.ceil(body.length / LOG_CHUNK_CHARS));
  for (let i = 0; i < chunks; i++) {
    logger.error(
      "raw_response_unsaved",
      {
        conversation_id: conversationId,
        user_id: userId,
        raw_sha256: sha256,
        raw_chars: body.length,
        chunk: i + 1,
        chunks,
        raw_body_chunk: body.slice(i * LOG_CHUNK_CHARS, (i + 1) * LOG_CHUNK_CHARS),
      },
      "Storage and the database are unavailable: the raw response is kept in these log entries",
    );
  }
}

async function waitForParse(
  deps: GenerateDeps,
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

export async function generateConversation(
  deps: GenerateDeps,
  input: GenerateInput,
  timer: PhaseTimer,
): Promise<GenerateOutcome> {
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
  const built = buildPrompt(scaffolding, conversationJsonSchema);
  const maxTokens = request.max_tokens ?? config.maxTokens;
  const conversationId = (deps.newId ?? (() => crypto.randomUUID()))();
  const warnings: string[] = [];
  if (request.temperature !== undefined) {
    warnings.push(
      "temperature is recorded but not sent: the Messages API no longer accepts sampling parameters",
    );
  }
  if (built.unresolved.length > 0) {
    logger.warn("template_placeholders_unresolved", {
      conversation_id: conversationId,
      template_id: built.templateId,
      placeholders: built.unresolved,
    });
  }

  const inserted = await beforeClaude(timer, () =>
    repo.insertGenerating({
      conversationId,
      userId,
      personaId: scaffolding.persona.id,
      emotionalArcId: scaffolding.arc.id,
      trainingTopicId: scaffolding.topic.id,
      templateId: built.templateId,
      personaKey: scaffolding.persona.persona_key,
      emotionalArcKey: scaffolding.arc.arc_key,
      topicKey: scaffolding.topic.topic_key,
      tier: request.tier,
      snapshot: scaffoldingSnapshot(scaffolding, built, {
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
    template_id: built.templateId,
    model: config.model,
    max_tokens: maxTokens,
  });

  const checkpointer = new StreamCheckpointer(repo, config, conversationId, () => clock.monotonic());
  const result = await timer.time("claude", () =>
    deps.claude.generate({
      onProgress: checkpointer.onProgress,
      model: config.model,
      system: built.system,
      prompt: built.prompt,
      maxTokens,
      outputSchema: conversationJsonSchema,
      plainJsonInstructions: built.plainJsonInstructions,
      userId,
      conversationId,
    }));

  const claudeReturnedAt = clock.monotonic();
  // A checkpoint still being written must land before the final write-ahead, never after it.
  await checkpointer.close();
  if (!result.ok) {
    const error = describeFailure(result.failure);
    logger.error("generation_failed", {
      conversation_id: conversationId,
      error,
      status: result.failure.status,
    });
    try {
      await timer.time("db", () => repo.markGenerationFailed(conversationId, error, result.failure.attempts));
    } catch (err) {
      // The row stays `generating`; the monitor reports rows stuck there. Nothing was returned, so nothing is lost.
      logger.error("generation_failed_unrecorded", { conversation_id: conversationId, error: err as Error });
    }
    return { kind: "claude_failed", conversationId, failure: result.failure };
  }

  const answer = result.answer;
  const bytes = new TextEncoder().encode(answer.body);
  const sha256 = await sha256Hex(bytes);
  const path = rawObjectPath(userId, conversationId);
  const truncated = answer.truncated || answer.stopReason === "max_tokens" ||
    answer.stopReason === "model_context_window_exceeded";
  if (answer.truncated) {
    warnings.push(`the response stream ended early (${answer.truncation}); what arrived is stored`);
  }

  // WRITE-AHEAD, the first thing after the last byte: the bytes and the metadata in one statement, before the
  // upload (the trigger may start the parse at once, and the parse checks this sha256). Until it commits, the
  // answer exists only in this worker's memory.
  let dbAvailable = true;
  let writtenAhead = false;
  const writeAheadInput = {
    conversationId,
    kind: "write_ahead" as const,
    raw: bytes,
    leaseMs: config.writeAheadLeaseMs,
    record: {
      rawSha256: sha256,
      stopReason: answer.stopReason,
      model: answer.model,
      inputTokens: answer.usage.input_tokens,
      outputTokens: answer.usage.output_tokens,
      costUsd: estimateCostUsd(answer.model ?? config.model, answer.usage),
      truncated,
      attempts: answer.attempts,
    },
  };
  try {
    writtenAhead = await timer.time("write_ahead", () => repo.writeAhead(writeAheadInput));
    if (!writtenAhead) {
      logger.warn("claude_result_unrecorded", { conversation_id: conversationId, reason: "not generating" });
    }
  } catch (err) {
    dbAvailable = false;
    logger.error("claude_result_unrecorded", { conversation_id: conversationId, error: err as Error });
  }
  const lastByteAt = checkpointer.lastEventAt ?? claudeReturnedAt;
  logger.info("raw_written_ahead", {
    conversation_id: conversationId,
    written: writtenAhead,
    raw_size: bytes.byteLength,
    // From the last stream event to the commit (or the failure) of the write-ahead: the in-memory window.
    memory_window_ms: Math.round((clock.monotonic() - lastByteAt) * 100) / 100,
    checkpoints: checkpointer.stats.written,
    checkpoint_failures: checkpointer.stats.failed,
    checkpoint_write_ms: Math.round(checkpointer.stats.writeMs * 10) / 10,
  });

  // The database refused the write-ahead (a restart, a failover): keep trying it beside the upload, every
  // 250 ms, so the answer becomes durable as soon as either store answers. Storage itself needs the database, so
  // during a PostgreSQL restart both come back together, and the first to commit ends the in-memory window.
  let stopRetry = false;
  const retryAhead = dbAvailable ? null : (async () => {
    const until = clock.monotonic() + config.writeAheadLeaseMs / 2;
    while (!stopRetry && clock.monotonic() < until) {
      await clock.sleep(250);
      if (stopRetry) return;
      try {
        writtenAhead = await repo.writeAhead(writeAheadInput);
        logger.info("raw_written_ahead", {
          conversation_id: conversationId,
          written: writtenAhead,
          late: true,
          raw_size: bytes.byteLength,
          memory_window_ms: Math.round((clock.monotonic() - lastByteAt) * 100) / 100,
        });
        return;
      } catch {
        // still unavailable: try again
      }
    }
  })();

  logger.info(
    "raw_store_started",
    { conversation_id: conversationId, raw_size: bytes.byteLength },
    RUNBOOK_LINES.storingRaw,
  );
  const upload = await timer.time("raw_store", () => uploadRaw(deps, path, bytes, sha256, conversationId));
  stopRetry = true;
  // The object is stored: a write-ahead still in flight is harmless (the row has moved on, or the flush finds
  // the identical object). Otherwise its outcome decides whether the bytes are already durable.
  if (!upload.ok && retryAhead) await retryAhead;
  let uploaded = upload.ok;
  let heldWrittenAhead = false;
  if (upload.ok) {
    logger.info(
      "raw_stored",
      {
        conversation_id: conversationId,
        path,
        raw_size: bytes.byteLength,
        raw_sha256: sha256,
        attempts: upload.attempts,
      },
      RUNBOOK_LINES.rawUploaded(path),
    );
    if (writtenAhead) {
      // The object is confirmed: the write-ahead copy has served. Should this fail, the sweeper's flush finds the
      // identical object once the lease ends and drops the copy then.
      try {
        await timer.time("db", () => repo.dropWriteAhead(conversationId, sha256));
      } catch (err) {
        logger.warn("write_ahead_not_dropped", { conversation_id: conversationId, error: err as Error });
      }
    }
  } else {
    logger.error("raw_upload_failed", {
      conversation_id: conversationId,
      path,
      attempts: upload.attempts,
      error: upload.message,
    });
    let spooled = false;
    try {
      const spool = await timer.time("raw_store", () =>
        repo.spoolRaw({
          conversationId,
          userId,
          raw: bytes,
          rawSha256: sha256,
          uploadAttempts: upload.attempts,
          lastError: upload.message.slice(0, 1000),
        }));
      if (spool.kind === "spooled") {
        spooled = true;
        warnings.push(
          "Storage is unavailable: the raw response is spooled in the database and will be uploaded",
        );
        logger.warn("raw_spooled", {
          conversation_id: conversationId,
          raw_size: bytes.byteLength,
          raw_sha256: sha256,
        });
      } else if (spool.kind === "not_generating" && spool.status !== "generation_failed") {
        // The row moved on without us: the storage trigger saw the object, so an upload did land after all.
        uploaded = true;
        logger.info("raw_stored_late", { conversation_id: conversationId, status: spool.status });
      }
    } catch (err) {
      logger.error("raw_spool_failed", { conversation_id: conversationId, error: err as Error });
    }
    if (!spooled && !uploaded && writtenAhead) {
      // The spool statement failed, but the write-ahead copy is durable: the flush uploads it when its lease ends.
      // The row still says generating until then; the answer says raw_spooled, which is what the bytes are.
      spooled = true;
      heldWrittenAhead = true;
      warnings.push(
        "Storage is unavailable: the raw response is held in the database (written ahead) and will be uploaded",
      );
      logger.warn("raw_spooled", {
        conversation_id: conversationId,
        raw_size: bytes.byteLength,
        raw_sha256: sha256,
        via: "write_ahead",
      });
    }
    if (!spooled && !uploaded) {
      logUnsavedBody(conversationId, userId, answer.body, sha256);
      return { kind: "unsaved", conversationId };
    }
  }

  const fallbackPath = uploaded ? path : null;
  if (!dbAvailable && uploaded) {
    warnings.push("the database was unavailable: the row is rebuilt from the stored object");
    return {
      kind: "created",
      view: {
        conversation_id: conversationId,
        // The object row and the trigger's status change commit in one transaction on the Storage side.
        processing_status: "raw_stored",
        raw_response_path: path,
        ...(truncated ? { truncated } : {}),
        warnings,
      },
    };
  }
  const state = heldWrittenAhead
    ? null
    : uploaded
    ? await waitForParse(deps, timer, conversationId, input.parseWaitMs)
    : await repo.readState(conversationId).catch(() => null);
  if (!state) {
    return {
      kind: "created",
      view: {
        conversation_id: conversationId,
        processing_status: uploaded ? "raw_stored" : "raw_spooled",
        raw_response_path: fallbackPath,
        ...(truncated ? { truncated } : {}),
        ...(warnings.length > 0 ? { warnings } : {}),
      },
    };
  }
  return { kind: "created", view: view(state, fallbackPath, warnings) };
}
