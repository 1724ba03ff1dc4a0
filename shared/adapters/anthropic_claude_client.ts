/**
 * Claude through `@anthropic-ai/sdk`: one streaming Messages call with our own retry policy, a per-attempt
 * timeout, an overall deadline, structured outputs with a fallback to plain JSON instructions, and a result
 * that carries the response body to store verbatim.
 *
 * "Verbatim" means the Messages API response body as the API defines it: for a streamed call (always, here)
 * the Message object assembled from the events — what the SDK's `finalMessage()` returns — serialized with
 * JSON.stringify. Nothing in it is rewritten; see shared/generate/message_assembler.ts for what a broken stream
 * leaves in it.
 *
 * Retries (the SDK's own are off, so attempts are counted and logged here): 408, 409, 429, 5xx (529
 * overloaded included), connection errors, timeouts and SSE `error` events of the overloaded/api/rate-limit
 * kinds, as long as no content has arrived. `retry-after-ms` / `retry-after` win over the exponential backoff;
 * a wait longer than the remaining deadline ends the retries at once. A stream that breaks after content
 * began is never retried: what arrived is returned, flagged truncated.
 *
 * No sampling parameters are sent: API version 2026-10-21 (the one SDK 1.x speaks) answers 400 to `temperature`,
 * `top_p` and `top_k`, even at their defaults.
 *
 * used by: shared/generate/call_claude.ts (through the ClaudeClient interface); wired in
 * shared/generate/deps_from_env.ts
 */
import Anthropic from "@anthropic-ai/sdk";
import { logger } from "../log.ts";
import { type JsonObject, MessageAssembler, type StreamEvent } from "../generate/message_assembler.ts";
import type {
  ClaudeAnswer,
  ClaudeClient,
  ClaudeFailure,
  ClaudeRequest,
  ClaudeUsage,
} from "../generate/claude_client.ts";

function deltaChars(event: StreamEvent): number {
  const d = event.delta as Record<string, unknown> | undefined;
  if (event.type !== "content_block_delta" || !d) return 0;
  let n = 0;
  for (const k of ["text", "partial_json", "thinking"]) {
    const v = d[k];
    if (typeof v === "string") n += v.length;
  }
  return n;
}

export interface ClaudeAdapterOptions {
  apiKey: string;
  baseURL?: string;
  /** Per attempt, from the request to the last event. */
  timeoutMs: number;
  maxRetries: number;
  /** Across all attempts: no retry starts, and no attempt runs, past it. */
  deadlineMs: number;
  /** Forwarded as `x-standin-behavior` (the local Claude stand-in only). */
  standinBehavior?: string;
  /** Extra headers on every call (tests pick stand-in behaviours this way). */
  headers?: Record<string, string>;
  /**
   * Send `x-standin-seed: <conversation id>` (the local stand-in only): without it the stand-in seeds from the
   * prompt, so every request for the same scaffolding would draw the same `mixed` outcome.
   */
  standinSeed?: boolean;
  structuredOutputs?: boolean;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

type AttemptResult =
  | { kind: "answer"; answer: Omit<ClaudeAnswer, "attempts" | "structuredOutput"> }
  | {
    kind: "error";
    retryable: boolean;
    unavailable: boolean;
    schemaRejected: boolean;
    status: number | null;
    errorType: string | null;
    message: string;
    retryAfterMs: number | null;
    requestId: string | null;
  };

/** Models that rejected `output_config.format` in this isolate: later calls skip straight to plain JSON. */
const schemaRejectedModels = new Set<string>();

/** For tests: forget which models rejected structured outputs. */
export function resetStructuredOutputMemory(): void {
  schemaRejectedModels.clear();
}

/** `retry-after-ms` (float ms), else `retry-after` (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(headers: Headers | undefined | null, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers.get("retry-after");
  if (ra === null || ra.trim() === "") return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}

const RETRYABLE_STREAM_ERROR_TYPES = new Set([
  "overloaded_error",
  "api_error",
  "rate_limit_error",
  "timeout_error",
]);

/**
 * A 400 `invalid_request_error` to a request that carried `output_config` is taken as a rejection of the schema
 * (or of structured outputs on that model) unless its message names another parameter (`max_tokens: …`). The
 * API's wording is not a contract ("For number type, properties maximum, minimum are not supported" names no
 * parameter), so only the error type and the parameter decide. A 400 that was not about the schema fails the
 * plain retry too, and then the model is not remembered (generate()).
 */
function isSchemaRejection(
  structured: boolean,
  status: number | null,
  type: string | null,
  message: string,
): boolean {
  if (!structured || status !== 400 || (type !== null && type !== "invalid_request_error")) return false;
  const param = /^([A-Za-z_][\w.[\]]*):\s/.exec(message)?.[1];
  return param === undefined || param.startsWith("output_config") || param.startsWith("output_format");
}

/**
 * The spend-limit 429: no `retry-after`, and `error.details.error_code` says why. Waiting seconds cannot help
 * (the limit resets on a calendar boundary), so it is not retried.
 */
function spendLimitCode(status: number | null, headers: Headers | undefined, body: unknown): string | null {
  if (status !== 429 || headers?.get("retry-after") || headers?.get("retry-after-ms")) return null;
  const details = (body as { error?: { details?: { error_code?: unknown } } } | undefined)?.error?.details;
  return typeof details?.error_code === "string" ? details.error_code : null;
}

function errorMessageOf(err: unknown): string {
  if (err instanceof Anthropic.APIError) {
    const body = err.error as { error?: { message?: unknown } } | undefined;
    const apiMessage = typeof body?.error?.message === "string" ? body.error.message : null;
    return apiMessage ?? err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function classify(
  err: unknown,
  timedOut: boolean,
  now: number,
  structured = false,
): Extract<AttemptResult, { kind: "error" }> {
  if (timedOut) {
    return {
      kind: "error",
      retryable: true,
      unavailable: true,
      schemaRejected: false,
      status: null,
      errorType: "timeout",
      message: "the call timed out",
      retryAfterMs: null,
      requestId: null,
    };
  }
  if (err instanceof Anthropic.APIConnectionError) {
    return {
      kind: "error",
      retryable: true,
      unavailable: true,
      schemaRejected: false,
      status: null,
      errorType: err instanceof Anthropic.APIConnectionTimeoutError ? "timeout" : "connection_error",
      message: err.message,
      retryAfterMs: null,
      requestId: null,
    };
  }
  if (err instanceof Anthropic.APIError) {
    const status = typeof err.status === "number" ? err.status : null;
    const body = err.error as { error?: { type?: unknown } } | undefined;
    const errorType = typeof body?.error?.type === "string" ? body.error.type : (err.type ?? null);
    const message = errorMessageOf(err);
    const headers = err.headers instanceof Headers ? err.headers : undefined;
    const shouldRetry = headers?.get("x-should-retry");
    const spendLimit = spendLimitCode(status, headers, err.error);
    let retryable: boolean;
    if (spendLimit !== null) retryable = false;
    else if (shouldRetry === "true") retryable = true;
    else if (shouldRetry === "false") retryable = false;
    else if (status === null) retryable = RETRYABLE_STREAM_ERROR_TYPES.has(errorType ?? "");
    else retryable = status === 408 || status === 409 || status === 429 || status >= 500;
    const unavailable = status === 429 || status === 503 || status === 529 ||
      errorType === "overloaded_error" ||
      errorType === "rate_limit_error" || status === 408;
    return {
      kind: "error",
      retryable,
      unavailable,
      schemaRejected: isSchemaRejection(structured, status, errorType, message),
      status,
      errorType,
      message: spendLimit !== null ? `${message} (error_code ${spendLimit}; not retried)` : message,
      retryAfterMs: retryAfterMs(headers, now),
      requestId: err.requestID ?? null,
    };
  }
  // fetch's own failures (a reset connection surfaces as TypeError) are transient like connection errors.
  return {
    kind: "error",
    retryable: true,
    unavailable: true,
    schemaRejected: false,
    status: null,
    errorType: "connection_error",
    message: err instanceof Error ? err.message : String(err),
    retryAfterMs: null,
    requestId: null,
  };
}

function usageOf(message: JsonObject): ClaudeUsage {
  const u = (message.usage ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    input_tokens: n(u.input_tokens),
    output_tokens: n(u.output_tokens),
    cache_creation_input_tokens: n(u.cache_creation_input_tokens),
    cache_read_input_tokens: n(u.cache_read_input_tokens),
  };
}

/** One attempt's answer from the assembled Message: complete when `truncation` is null, else cut that way. */
function answerOf(
  message: JsonObject,
  truncation: ClaudeAnswer["truncation"],
  requestId: string | null,
): Extract<AttemptResult, { kind: "answer" }> {
  return {
    kind: "answer",
    answer: {
      body: JSON.stringify(message),
      message,
      model: typeof message.model === "string" ? message.model : null,
      stopReason: typeof message.stop_reason === "string" ? message.stop_reason : null,
      usage: usageOf(message),
      truncated: truncation !== null,
      truncation,
      requestId,
    },
  };
}

/**
 * The `ClaudeClient` port over `@anthropic-ai/sdk`: one streaming call with this module's retry policy and
 * deadline. Never throws: every SDK, HTTP and network failure comes back as a `ClaudeFailure` value, and a stream
 * cut after content began comes back as a truncated answer (what arrived is kept, never retried).
 */
export function anthropicClaudeClient(opts: ClaudeAdapterOptions): ClaudeClient {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.standinBehavior) headers["x-standin-behavior"] = opts.standinBehavior;
  const client = new Anthropic({
    apiKey: opts.apiKey,
    baseURL: opts.baseURL,
    maxRetries: 0,
    timeout: opts.timeoutMs,
    defaultHeaders: headers,
    fetch: opts.fetch,
  });
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? (() => Date.now());
  const random = opts.random ?? Math.random;
  const initialBackoff = opts.initialBackoffMs ?? 500;
  const maxBackoff = opts.maxBackoffMs ?? 8000;
  const structuredEnabled = opts.structuredOutputs ?? true;

  async function attempt(
    req: ClaudeRequest,
    structured: boolean,
    budgetMs: number,
    attemptNo: number,
  ): Promise<AttemptResult> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, Math.max(1, budgetMs));
    const assembler = new MessageAssembler();
    let requestId: string | null = null;
    try {
      const params: Anthropic.MessageCreateParamsStreaming = {
        model: req.model,
        max_tokens: req.maxTokens,
        system: req.system,
        messages: [{
          role: "user",
          content: structured ? req.prompt : `${req.prompt}\n\n${req.plainJsonInstructions}`,
        }],
        stream: true,
      };
      if (req.userId) params.metadata = { user_id: req.userId };
      if (structured && req.outputSchema) {
        params.output_config = { format: { type: "json_schema", schema: req.outputSchema } };
      }
      const { data: stream, response } = await client.messages
        .create(params, {
          signal: controller.signal,
          timeout: budgetMs,
          headers: opts.standinSeed && req.conversationId
            ? { "x-standin-seed": req.conversationId }
            : undefined,
        })
        .withResponse();
      requestId = response.headers.get("request-id");
      let streamError: unknown = null;
      try {
        let received = 0;
        for await (const event of stream) {
          assembler.apply(event as unknown as StreamEvent);
          if (req.onProgress) {
            received += deltaChars(event as unknown as StreamEvent);
            req.onProgress({
              receivedChars: received,
              contentBegan: assembler.contentBegan,
              attempt: attemptNo,
              snapshot: () => assembler.message(),
            });
          }
          // `message_stop` is the last event the API sends: stop here rather than wait for the body's end (one
          // more network turn, late on a busy event loop) while the complete answer sits only in memory.
          // Leaving the loop aborts the rest of the response.
          if (assembler.complete) break;
        }
      } catch (err) {
        streamError = err;
      }
      if (!assembler.complete) {
        // The stream ended early: a timeout (the SDK swallows our abort), a dropped connection or an SSE error.
        if (!assembler.contentBegan) {
          return classify(streamError ?? new Error("stream ended early"), timedOut, now(), structured);
        }
        return answerOf(
          assembler.message(),
          timedOut ? "timeout" : streamError ? "stream_error" : "stream_cut",
          requestId,
        );
      }
      return answerOf(assembler.message(), null, requestId);
    } catch (err) {
      const result = classify(err, timedOut, now(), structured);
      return { ...result, requestId: result.requestId ?? requestId };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async generate(req) {
      const started = now();
      const deadline = started + opts.deadlineMs;
      let structured = structuredEnabled && req.outputSchema !== null && !schemaRejectedModels.has(req.model);
      let attempts = 0;
      let retriesLeft = opts.maxRetries;
      let last: Extract<AttemptResult, { kind: "error" }> | null = null;
      // Set after a schema rejection: the model is remembered only once the plain retry is not refused too.
      let rejectedBy: string | null = null;
      while (true) {
        const remaining = deadline - now();
        if (remaining <= 0) break;
        attempts++;
        const result = await attempt(req, structured, Math.min(opts.timeoutMs, remaining), attempts);
        if (rejectedBy !== null) {
          if (result.kind === "answer" || result.status !== 400) schemaRejectedModels.add(rejectedBy);
          rejectedBy = null;
        }
        if (result.kind === "answer") {
          return { ok: true, answer: { ...result.answer, attempts, structuredOutput: structured } };
        }
        last = result;
        if (structured && result.schemaRejected) {
          // The API refused the schema or the model lacks the feature: ask again with plain JSON instructions.
          // This is not a transient failure, so it does not use up a retry.
          rejectedBy = req.model;
          structured = false;
          logger.warn("claude_structured_output_rejected", {
            conversation_id: req.conversationId,
            model: req.model,
            status: result.status,
            error: result.message.slice(0, 300),
          }, "Structured outputs rejected; retrying with plain JSON instructions");
          continue;
        }
        if (!result.retryable || retriesLeft <= 0) break;
        const backoff = Math.min(maxBackoff, initialBackoff * 2 ** (opts.maxRetries - retriesLeft)) *
          (1 - 0.25 * random());
        const wait = result.retryAfterMs ?? backoff;
        if (now() + wait >= deadline) break;
        retriesLeft--;
        logger.warn("claude_retry", {
          conversation_id: req.conversationId,
          attempt: attempts,
          status: result.status,
          error_type: result.errorType,
          wait_ms: Math.round(wait),
        }, `Claude call failed (${result.status ?? result.errorType}); retrying in ${Math.round(wait)} ms`);
        await sleep(wait);
      }
      const failure: ClaudeFailure = last
        ? {
          kind: last.unavailable ? "unavailable" : "failed",
          status: last.status,
          errorType: last.errorType,
          message: last.message,
          attempts,
          retryAfterMs: last.retryAfterMs,
          requestId: last.requestId,
        }
        : {
          kind: "unavailable",
          status: null,
          errorType: "timeout",
          message: "the deadline passed before the call could start",
          attempts,
          retryAfterMs: null,
          requestId: null,
        };
      return { ok: false, failure };
    },
  };
}
