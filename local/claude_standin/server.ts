/**
 * The Claude stand-in: `POST /v1/messages` (plain JSON and SSE streaming) as @anthropic-ai/sdk expects it,
 * answering with a conversation built from the prompt's scaffolding through a selectable behaviour.
 *
 * Behaviour for a request, first match wins:
 *   1. a marker in the prompt text: `[standin:fenced]` (also `[standin:slow:1500+truncated]`);
 *   2. the request header `x-standin-behavior` (the generate function forwards env CLAUDE_STANDIN_BEHAVIOR);
 *   3. the default set with `POST /__admin/behavior {"behavior": "mixed"}` (reset with `POST /__admin/reset`);
 *   4. the gateway's env `CLAUDE_STANDIN_BEHAVIOR` at start; else `clean`.
 * Seed: header `x-standin-seed`, else a hash of the prompt. Latency: `slow:N` or header `x-standin-latency-ms`.
 * Admin: GET /__admin/behavior, GET /__admin/requests (the last 200 requests, newest last), GET /__admin/health,
 * GET /__admin/usage (answered calls and output tokens per `metadata.user_id`, since the last reset).
 * GET /__admin/streams (per `x-standin-seed`, the streams whose last event was written: the answers "sent", for
 * the chaos test's "every answer sent is stored or its loss recorded"; the last 50,000 seeds).
 *
 * Batches: /v1/messages/batches (create, list, retrieve, cancel, delete, results) and /__admin/batches/… in
 * batches.ts; POST /__admin/reset also forgets every batch.
 *
 * Served by the gateway process (local/gateway/main.ts) on LOCAL_CLAUDE_PORT (default 54330).
 */
import { z } from "zod";
import { type BatchLimits, createBatchApi, MAX_BATCH_BYTES, MAX_BATCH_REQUESTS } from "./batches.ts";
import { type BehaviorSpec, hashSeed, type Outcome, parseBehavior, resolveOutcome } from "./behavior.ts";
import { buildConversation, scaffoldingFromPrompt } from "./conversation.ts";
import {
  MARKER,
  messageBody,
  type MessagesRequest,
  messagesRequestSchema,
  promptText,
  requestId,
  usage,
} from "./messages_api.ts";
import { estimateTokens, type MessageReply, renderReply, type Reply } from "./render.ts";

export { type MessagesRequest, messagesRequestSchema, promptText };

export interface RequestRecord {
  id: string;
  at: string;
  model: string;
  stream: boolean;
  behavior: string;
  outcome: Outcome;
  seed: number;
  call_index: number;
  max_tokens: number;
  has_output_format: boolean;
  tools: string[];
  headers: Record<string, string>;
}

export interface StandinOptions {
  /** Default behaviour when neither the prompt, the header nor the admin endpoint chose one. */
  defaultBehavior?: string;
  log?: (line: string) => void;
  /** The clock batches advance by (tests move it to 24 h and beyond); default Date.now. */
  now?: () => number;
  /** Batch size limits; default the API's 100,000 requests and 256 MB (tests lower the bytes). */
  batchLimits?: Partial<BatchLimits>;
}

export interface Standin {
  handler: (req: Request) => Promise<Response>;
}

/**
 * The API's error envelope. Like the real API, every answer carries a `request-id` header (the SDK reads it
 * from there, as `error.requestID`), the same id as the body's `request_id`.
 */
function apiError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
  details?: Record<string, unknown>,
): Response {
  const id = requestId();
  const error = details ? { type, message, details } : { type, message };
  return new Response(
    JSON.stringify({ type: "error", error, request_id: id }),
    { status, headers: { "content-type": "application/json", "request-id": id, ...headers } },
  );
}

function messageId(seed: number, callIndex: number): string {
  return `msg_local_${seed.toString(36)}_${callIndex}_${crypto.randomUUID().slice(0, 8)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

/** Splits text into SSE-sized pieces (the real API sends a few tokens per delta). */
function chunks(text: string, size = 48): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The SSE events, in the order the real API sends them (see local-toolchain.md §4). */
export function streamEvents(reply: MessageReply, model: string, id: string, inputTokens: number): string[] {
  const events: string[] = [];
  events.push(sse("message_start", {
    type: "message_start",
    message: {
      ...messageBody(reply, model, id, inputTokens),
      content: [],
      stop_reason: null,
      stop_details: null,
      usage: usage(inputTokens, 1),
    },
  }));
  reply.content.forEach((block, index) => {
    const blockDeltas: string[] = [];
    if (block.type === "thinking") {
      events.push(sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      }));
      if (index === 0) events.push(sse("ping", { type: "ping" }));
      for (const piece of chunks(block.thinking)) {
        blockDeltas.push(sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "thinking_delta", thinking: piece },
        }));
      }
      blockDeltas.push(sse("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature: block.signature },
      }));
    } else if (block.type === "text") {
      events.push(sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "", citations: null },
      }));
      if (index === 0) events.push(sse("ping", { type: "ping" }));
      for (const piece of chunks(block.text)) {
        blockDeltas.push(sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: piece },
        }));
      }
    } else {
      events.push(sse("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { ...block, input: {} },
      }));
      if (index === 0) events.push(sse("ping", { type: "ping" }));
      for (const piece of chunks(JSON.stringify(block.input))) {
        blockDeltas.push(sse("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "input_json_delta", partial_json: piece },
        }));
      }
    }
    events.push(...blockDeltas);
    events.push(sse("content_block_stop", { type: "content_block_stop", index }));
  });
  if (reply.content.length === 0) events.push(sse("ping", { type: "ping" }));
  events.push(sse("message_delta", {
    type: "message_delta",
    delta: {
      stop_reason: reply.stopReason,
      stop_sequence: null,
      stop_details: reply.stopDetails,
      container: null,
    },
    usage: {
      input_tokens: inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: reply.outputTokens,
      output_tokens_details: null,
      server_tool_use: null,
    },
  }));
  events.push(sse("message_stop", { type: "message_stop" }));
  return events;
}

/** A stream's last event was handed to the connection: what the chaos test counts as an answer sent. */
export interface StreamSent {
  seed: string;
  at: string;
  complete: boolean;
  events: number;
}

function streamResponse(
  events: string[],
  reply: MessageReply,
  signal: AbortSignal,
  opts: { dripMs?: number; onSent?: (complete: boolean, events: number) => void } = {},
): Response {
  const encoder = new TextEncoder();
  // stream_cut: stop about halfway through the deltas and drop the connection (no message_stop).
  // thinking_cut: drop it inside the thinking block, after its first delta and before any answer text.
  const firstThinking = events.findIndex((e) => e.includes('"thinking_delta"'));
  const stopAt = reply.cutInThinking && firstThinking !== -1
    ? firstThinking + 1
    : reply.cut || reply.midStreamError
    ? Math.max(3, Math.floor(events.length / 2))
    : events.length;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const gap = opts.dripMs ? opts.dripMs / Math.max(1, stopAt) : 0;
      for (let i = 0; i < stopAt; i++) {
        if (signal.aborted) return;
        try {
          controller.enqueue(encoder.encode(events[i]));
        } catch {
          return; // the client went away (a killed worker)
        }
        // Yield between events so a client sees a real stream, not one buffered write.
        if (gap > 0) await new Promise((r) => setTimeout(r, gap));
        else if (i % 8 === 7) await new Promise((r) => setTimeout(r, 1));
      }
      if (signal.aborted) return;
      opts.onSent?.(!reply.cut && !reply.midStreamError, stopAt);
      if (reply.midStreamError) {
        controller.enqueue(encoder.encode(sse("error", {
          type: "error",
          error: { type: "overloaded_error", message: "Overloaded" },
          request_id: requestId(),
        })));
        controller.close();
        return;
      }
      if (reply.cut) {
        controller.error(new Error("stand-in: stream cut midway"));
        return;
      }
      controller.close();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "request-id": requestId(),
    },
  });
}

export function createStandin(opts: StandinOptions = {}): Standin {
  const envDefault = opts.defaultBehavior?.trim() || "clean";
  let adminDefault: string | null = null;
  const callCounts = new Map<string, number>();
  const recent: RequestRecord[] = [];
  /** Answered calls and output tokens per `metadata.user_id` (GET /__admin/usage): what each user spent. */
  const usageByUser = new Map<string, { requests: number; output_tokens: number }>();
  const sent = new Map<string, StreamSent>();
  const log = opts.log ?? (() => {});

  function nextCallIndex(key: string): number {
    const n = callCounts.get(key) ?? 0;
    if (callCounts.size > 50_000) callCounts.clear();
    callCounts.set(key, n + 1);
    return n;
  }

  const batches = createBatchApi({
    defaultBehavior: () => adminDefault ?? envDefault,
    nextCallIndex,
    now: opts.now ?? Date.now,
    limits: {
      maxRequests: opts.batchLimits?.maxRequests ?? MAX_BATCH_REQUESTS,
      maxBytes: opts.batchLimits?.maxBytes ?? MAX_BATCH_BYTES,
    },
    log,
    apiError: (status, type, message) => apiError(status, type, message),
  });

  /** The same checks as the real API, before anything else: a key, then the version header. */
  function checkAuth(req: Request): Response | null {
    if (!req.headers.get("x-api-key") && !/^Bearer\s+\S/i.test(req.headers.get("authorization") ?? "")) {
      return apiError(401, "authentication_error", "x-api-key header is required");
    }
    if (!req.headers.get("anthropic-version")) {
      return apiError(400, "invalid_request_error", "anthropic-version: header is required");
    }
    return null;
  }

  async function admin(req: Request, path: string): Promise<Response> {
    if (path === "/__admin/health") return Response.json({ message: "ok" });
    if (path === "/__admin/requests" && req.method === "GET") return Response.json(recent);
    if (path === "/__admin/usage" && req.method === "GET") {
      return Response.json(Object.fromEntries(usageByUser));
    }
    if (path === "/__admin/streams" && req.method === "GET") return Response.json([...sent.values()]);
    if (path === "/__admin/batches" || path.startsWith("/__admin/batches/")) {
      return await batches.admin(req, path);
    }
    if (path === "/__admin/reset" && req.method === "POST") {
      batches.reset();
      adminDefault = null;
      callCounts.clear();
      recent.length = 0;
      usageByUser.clear();
      sent.clear();
      return Response.json({ behavior: envDefault });
    }
    if (path === "/__admin/behavior") {
      if (req.method === "GET") return Response.json({ behavior: adminDefault ?? envDefault });
      if (req.method === "POST") {
        const parsed = z.object({ behavior: z.string().nullable() }).safeParse(
          await req.json().catch(() => null),
        );
        if (!parsed.success) return Response.json({ error: 'send {"behavior": "<name>"}' }, { status: 400 });
        if (parsed.data.behavior !== null) {
          try {
            parseBehavior(parsed.data.behavior);
          } catch (err) {
            return Response.json({ error: (err as Error).message }, { status: 400 });
          }
        }
        adminDefault = parsed.data.behavior;
        return Response.json({ behavior: adminDefault ?? envDefault });
      }
    }
    return Response.json({ error: "not found" }, { status: 404 });
  }

  async function messages(req: Request): Promise<Response> {
    const denied = checkAuth(req);
    if (denied) return denied;
    let raw: unknown;
    try {
      raw = await req.json();
    } catch {
      return apiError(400, "invalid_request_error", "The request body is not valid JSON.");
    }
    const parsed = messagesRequestSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return apiError(400, "invalid_request_error", `${issue.path.join(".")}: ${issue.message}`);
    }
    const body = parsed.data;
    const prompt = promptText(body);
    const marker = MARKER.exec(prompt)?.[1]?.trim();
    const behaviorText = marker ?? req.headers.get("x-standin-behavior") ?? adminDefault ?? envDefault;
    let spec: BehaviorSpec;
    try {
      spec = parseBehavior(behaviorText);
    } catch (err) {
      return apiError(400, "invalid_request_error", (err as Error).message);
    }
    const latencyHeader = Number(req.headers.get("x-standin-latency-ms") ?? "");
    if (Number.isFinite(latencyHeader) && latencyHeader > 0) spec = { ...spec, latencyMs: latencyHeader };

    const seedText = req.headers.get("x-standin-seed") ?? prompt;
    const seed = hashSeed(seedText);
    const callIndex = nextCallIndex(`${seed}:${behaviorText}`);
    const isStream = body.stream === true;
    const hasOutputFormat = !!body.output_config?.format;
    let outcome = resolveOutcome(spec, { seed, callIndex, isStream, hasOutputFormat });
    const forcedTool = body.tool_choice?.type === "tool" || body.tool_choice?.type === "any";
    const toolName = body.tool_choice?.name ?? body.tools?.[0]?.name ?? null;
    if (outcome === "clean" && forcedTool && toolName !== null) outcome = "tool_use";

    const id = messageId(seed, callIndex);
    recent.push({
      id,
      at: new Date().toISOString(),
      model: body.model,
      stream: isStream,
      behavior: behaviorText,
      outcome,
      seed,
      call_index: callIndex,
      max_tokens: body.max_tokens,
      has_output_format: hasOutputFormat,
      tools: (body.tools ?? []).map((t) => t.name),
      headers: Object.fromEntries(
        [...req.headers].filter(([k]) =>
          k.startsWith("x-standin-") || k === "anthropic-version" || k === "anthropic-beta"
        ),
      ),
    });
    if (recent.length > 200) recent.shift();
    log(
      JSON.stringify({
        event: "standin_request",
        id,
        model: body.model,
        stream: isStream,
        behavior: behaviorText,
        outcome,
      }),
    );

    await sleep(spec.latencyMs, req.signal);
    const conv = buildConversation(scaffoldingFromPrompt(prompt), seed);
    const reply: Reply = renderReply(outcome, conv, {
      maxTokens: body.max_tokens,
      hasOutputFormat,
      toolName,
      retryAfterSec: spec.retryAfterSec,
      overloadedRetryAfterSec: spec.overloadedRetryAfterSec ?? null,
    }, seed);
    if (reply.kind === "error") {
      return apiError(reply.status, reply.errorType, reply.message, reply.headers, reply.details);
    }
    const user = body.metadata?.user_id;
    if (user !== undefined) {
      if (!usageByUser.has(user) && usageByUser.size >= 10_000) usageByUser.clear();
      const u = usageByUser.get(user) ?? { requests: 0, output_tokens: 0 };
      u.requests += 1;
      u.output_tokens += reply.outputTokens;
      usageByUser.set(user, u);
    }
    const inputTokens = estimateTokens(prompt) + 8;
    if (isStream) {
      const seedHeader = req.headers.get("x-standin-seed");
      return streamResponse(streamEvents(reply, body.model, id, inputTokens), reply, req.signal, {
        dripMs: spec.dripMs,
        onSent: seedHeader === null ? undefined : (complete, events) => {
          if (sent.size >= 50_000) sent.delete(sent.keys().next().value!);
          sent.set(seedHeader, { seed: seedHeader, at: new Date().toISOString(), complete, events });
        },
      });
    }
    const json = JSON.stringify(messageBody(reply, body.model, id, inputTokens));
    if (reply.cut || reply.midStreamError) {
      // A dropped connection mid-body: the client sees a network error, never a complete JSON document.
      const half = new TextEncoder().encode(json.slice(0, Math.floor(json.length / 2)));
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(half);
          c.error(new Error("stand-in: body cut midway"));
        },
      });
      return new Response(stream, { status: 200, headers: { "content-type": "application/json" } });
    }
    return new Response(json, {
      status: 200,
      headers: { "content-type": "application/json", "request-id": requestId() },
    });
  }

  return {
    async handler(req: Request): Promise<Response> {
      const path = new URL(req.url).pathname;
      try {
        if (path.startsWith("/__admin/")) return await admin(req, path);
        if (path === "/v1/messages" && req.method === "POST") return await messages(req);
        if (path === "/v1/messages/batches" || path.startsWith("/v1/messages/batches/")) {
          return checkAuth(req) ?? await batches.handle(req, path);
        }
        if (path === "/v1/messages") {
          return apiError(405, "invalid_request_error", `Method ${req.method} not allowed`);
        }
        return apiError(
          404,
          "not_found_error",
          `Not found: ${path} (the local stand-in serves POST /v1/messages and /v1/messages/batches)`,
        );
      } catch (err) {
        log(
          JSON.stringify({ event: "standin_error", error: err instanceof Error ? err.stack : String(err) }),
        );
        return apiError(500, "api_error", "Internal server error");
      }
    },
  };
}
