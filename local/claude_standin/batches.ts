/**
 * The stand-in's Message Batches API, as @anthropic-ai/sdk 1.14.0 (`client.messages.batches`) calls it:
 *
 *   POST   /v1/messages/batches                  create: `{requests: [{custom_id, params}]}` → MessageBatch
 *   GET    /v1/messages/batches                  list, newest first: `limit` 1–1000 (20), `after_id`/`before_id`
 *   GET    /v1/messages/batches/{id}             retrieve
 *   POST   /v1/messages/batches/{id}/cancel      → `canceling`; ends with `canceled` for what was not processed
 *   DELETE /v1/messages/batches/{id}             only once ended → `{id, type: "message_batch_deleted"}`
 *   GET    /v1/messages/batches/{id}/results     JSONL `{"custom_id","result"}`, streamed (`results_url`)
 *
 * Real-API rules kept: `request_counts` show every request as `processing` until the whole batch has ended;
 * `params` are validated only when processing ends (an invalid request is an `errored` line, not a 400 at
 * create); `expires_at` = created + 24 h, and what is unprocessed then is `expired`; results come in no
 * particular order (here: a permutation drawn from a seed, the order the requests were "processed" in).
 * Over 100,000 requests or 256 MB → 413 `request_too_large`; a repeated `custom_id` → 400.
 *
 * Each request is answered as POST /v1/messages would answer it (server.ts): behaviour from the prompt marker,
 * else the create call's `x-standin-behavior`, else the admin or env default; seed = a hash of `custom_id`
 * (generate sends the conversation id as both, so a conversation draws the same outcome either way). A
 * transient outcome (429, 529, 500, a cut body) becomes an `errored` line; the per-seed call counter is shared
 * with /v1/messages, so a request re-submitted in a later batch recovers as a retried one does.
 *
 * Time: a batch processes its requests evenly over `processing_ms` (admin config or header
 * `x-standin-batch-processing-ms`; default 2000). Nothing runs in the background: state advances when a batch
 * is read. The results body is rendered line by line while it is sent (a 10,000-request batch is never one
 * string) and is byte-identical on every download. In memory only, like the rest of the stand-in.
 */
import { z } from "zod";
import {
  type BehaviorSpec,
  ERROR_BEHAVIORS,
  hashSeed,
  type Outcome,
  parseBehavior,
  resolveOutcome,
  seededRandom,
} from "./behavior.ts";
import { buildConversation, scaffoldingFromPrompt } from "./conversation.ts";
import {
  MARKER,
  messageBody,
  type MessagesRequest,
  messagesRequestSchema,
  promptText,
} from "./messages_api.ts";
import { estimateTokens, renderReply } from "./render.ts";
import { readBytesUpTo } from "../../shared/http/request.ts";

export const MAX_BATCH_REQUESTS = 100_000;
export const MAX_BATCH_BYTES = 256 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

export interface BatchLimits {
  maxRequests: number;
  maxBytes: number;
}

export interface BatchApiDeps {
  /** The behaviour when neither the prompt nor the create call's header chose one (admin, then env default). */
  defaultBehavior: () => string;
  /** The per-seed call counter shared with /v1/messages (key: `${seed}:${behaviour text}`). */
  nextCallIndex: (key: string) => number;
  now: () => number;
  limits: BatchLimits;
  log: (line: string) => void;
  /** The API's error envelope as a Response (server.ts `apiError`). */
  apiError: (status: number, type: string, message: string) => Response;
}

/** What became of one request: an outcome played (succeeded or errored), or never processed. */
type Fate = Outcome | "invalid" | "canceled" | "expired";

interface BatchRequest {
  customId: string;
  /** null when `params` failed validation: the reason becomes an `errored` line after the end. */
  params: MessagesRequest | null;
  invalid: string | null;
  behaviorText: string;
}

type Status = "in_progress" | "canceling" | "ended";

interface Batch {
  id: string;
  createdAt: number;
  expiresAt: number;
  processingMs: number;
  cancelMs: number;
  requests: BatchRequest[];
  /** The order requests are processed in, and the order of the results file. */
  order: Uint32Array;
  status: Status;
  /** Requests processed so far, forced by `POST /__admin/batches/{id}/process`. */
  forcedProcessed: number;
  /** Frozen at cancel: what had been processed when cancellation began. */
  processedAtCancel: number;
  cancelInitiatedAt: number | null;
  endedAt: number | null;
  archivedAt: number | null;
  /** Per position in `order`, once ended. */
  fates: Fate[] | null;
  callIndexes: Uint32Array | null;
  counts: RequestCounts;
}

interface RequestCounts {
  processing: number;
  succeeded: number;
  errored: number;
  canceled: number;
  expired: number;
}

export interface BatchConfig {
  processing_ms: number;
  cancel_ms: number;
  /** The results order's seed for every new batch; null: header `x-standin-seed`, else the custom_ids. */
  seed: number | null;
}

export const DEFAULT_BATCH_CONFIG: BatchConfig = { processing_ms: 2000, cancel_ms: 0, seed: null };

interface CutFault {
  afterLines: number | null;
  remaining: number;
  batchId: string | null;
}

/** Outcomes that end as an `errored` line; everything else in CONTENT_BEHAVIORS is a `succeeded` Message. */
const ERRORED_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>([
  ...ERROR_BEHAVIORS,
  "schema_rejected",
  "stream_cut",
  "stream_error",
  "thinking_cut",
]);

export function isErroredFate(fate: Fate): boolean {
  return fate === "invalid" || (fate !== "canceled" && fate !== "expired" && ERRORED_OUTCOMES.has(fate));
}

const createBodySchema = z.object({
  requests: z.array(z.object({ custom_id: z.string(), params: z.unknown() })),
});

const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(20),
  after_id: z.string().min(1).optional(),
  before_id: z.string().min(1).optional(),
});

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function batchId(): string {
  return `msgbatch_local_${crypto.randomUUID().replace(/-/g, "").slice(0, 24)}`;
}

/** Fisher–Yates with the stand-in's seeded random: the same seed, the same results order. */
function permutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rand = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** Reads a body up to `max` bytes; null when it is larger (checked while reading, so no 256 MB buffer). */
function readLimited(req: Request, max: number): Promise<Uint8Array | null> {
  const declared = Number(req.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(null);
  return readBytesUpTo(req.body, max);
}

export interface BatchApi {
  /** Routes under /v1/messages/batches (auth already checked). */
  handle(req: Request, path: string): Promise<Response>;
  /** Routes under /__admin/batches. */
  admin(req: Request, path: string): Promise<Response>;
  reset(): void;
}

export function createBatchApi(deps: BatchApiDeps): BatchApi {
  const batches = new Map<string, Batch>(); // insertion order = creation order
  let config: BatchConfig = { ...DEFAULT_BATCH_CONFIG };
  let fault: CutFault | null = null;
  const { apiError } = deps;

  function processedBy(b: Batch, now: number): number {
    const n = b.requests.length;
    if (b.status !== "in_progress") return b.processedAtCancel;
    const byTime = b.processingMs <= 0
      ? n
      : Math.floor(n * Math.min(1, (now - b.createdAt) / b.processingMs));
    return Math.min(n, Math.max(b.forcedProcessed, byTime));
  }

  /** Ends a batch: the first `processed` requests (in processing order) get their outcome, the rest `rest`. */
  function finish(b: Batch, processed: number, rest: "canceled" | "expired", now: number): void {
    const n = b.requests.length;
    const fates: Fate[] = new Array(n);
    const callIndexes = new Uint32Array(n);
    const counts: RequestCounts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    for (let pos = 0; pos < n; pos++) {
      let fate: Fate;
      if (pos >= processed) {
        fate = rest;
      } else {
        const r = b.requests[b.order[pos]];
        if (r.params === null) {
          fate = "invalid";
        } else {
          const spec = parseBehavior(r.behaviorText);
          const seed = hashSeed(r.customId);
          const callIndex = deps.nextCallIndex(`${seed}:${r.behaviorText}`);
          callIndexes[pos] = callIndex;
          fate = resolveOutcome(spec, {
            seed,
            callIndex,
            isStream: false,
            hasOutputFormat: !!r.params.output_config?.format,
          });
        }
      }
      fates[pos] = fate;
      if (fate === "canceled") counts.canceled++;
      else if (fate === "expired") counts.expired++;
      else if (isErroredFate(fate)) counts.errored++;
      else counts.succeeded++;
    }
    b.fates = fates;
    b.callIndexes = callIndexes;
    b.counts = counts;
    b.status = "ended";
    b.endedAt = now;
    deps.log(JSON.stringify({ event: "standin_batch_ended", id: b.id, ...counts }));
  }

  /** Moves a batch along its clock: the end of processing, the end of cancellation, or expiry at 24 h. */
  function advance(b: Batch, now: number): void {
    if (b.status === "in_progress") {
      // Expiry wins when processing would have run past it: whatever was unprocessed at 24 h is `expired`.
      if (now >= b.expiresAt && b.createdAt + b.processingMs > b.expiresAt) {
        finish(b, processedBy(b, b.expiresAt), "expired", now);
      } else if (now >= b.createdAt + b.processingMs || processedBy(b, now) >= b.requests.length) {
        finish(b, b.requests.length, "expired", now);
      }
    } else if (b.status === "canceling" && b.cancelInitiatedAt !== null) {
      if (now >= b.cancelInitiatedAt + b.cancelMs) finish(b, b.processedAtCancel, "canceled", now);
    }
  }

  function view(b: Batch, origin: string) {
    return {
      id: b.id,
      type: "message_batch",
      processing_status: b.status,
      request_counts: b.status === "ended"
        ? b.counts
        : { processing: b.requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
      ended_at: iso(b.endedAt),
      created_at: iso(b.createdAt),
      expires_at: iso(b.expiresAt),
      cancel_initiated_at: iso(b.cancelInitiatedAt),
      archived_at: iso(b.archivedAt),
      results_url: b.status === "ended" ? `${origin}/v1/messages/batches/${b.id}/results` : null,
    };
  }

  function notFound(id: string): Response {
    return apiError(404, "not_found_error", `Cannot find message batch "${id}": no such batch`);
  }

  async function create(req: Request, origin: string): Promise<Response> {
    const bytes = await readLimited(req, deps.limits.maxBytes);
    if (bytes === null) {
      return apiError(
        413,
        "request_too_large",
        `Cannot create message batch: the request is larger than ${deps.limits.maxBytes} bytes`,
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return apiError(400, "invalid_request_error", "The request body is not valid JSON.");
    }
    const parsed = createBodySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return apiError(400, "invalid_request_error", `${issue.path.join(".")}: ${issue.message}`);
    }
    const items = parsed.data.requests;
    if (items.length > deps.limits.maxRequests) {
      return apiError(
        413,
        "request_too_large",
        `Cannot create message batch: ${items.length} requests, the limit is ${deps.limits.maxRequests}`,
      );
    }
    if (items.length === 0) {
      return apiError(400, "invalid_request_error", "requests: a batch needs at least one request");
    }
    const seen = new Set<string>();
    for (let i = 0; i < items.length; i++) {
      const id = items[i].custom_id;
      if (!CUSTOM_ID.test(id)) {
        return apiError(
          400,
          "invalid_request_error",
          `requests.${i}.custom_id: must be 1-64 characters of letters, digits, "_" or "-"`,
        );
      }
      if (seen.has(id)) {
        return apiError(
          400,
          "invalid_request_error",
          `requests.${i}.custom_id: "${id}" is used more than once in this batch; custom_id must be unique`,
        );
      }
      seen.add(id);
    }

    const headerBehavior = req.headers.get("x-standin-behavior");
    const requests: BatchRequest[] = items.map((item) => {
      const p = messagesRequestSchema.safeParse(item.params);
      if (!p.success) {
        const issue = p.error.issues[0];
        return {
          customId: item.custom_id,
          params: null,
          invalid: `${issue.path.join(".")}: ${issue.message}`,
          behaviorText: "",
        };
      }
      if (p.data.stream === true) {
        return {
          customId: item.custom_id,
          params: null,
          invalid: "stream: streaming is not supported for requests in a message batch",
          behaviorText: "",
        };
      }
      const behaviorText = MARKER.exec(promptText(p.data))?.[1]?.trim() ?? headerBehavior ??
        deps.defaultBehavior();
      try {
        parseBehavior(behaviorText);
      } catch (err) {
        return { customId: item.custom_id, params: null, invalid: (err as Error).message, behaviorText };
      }
      return { customId: item.custom_id, params: p.data, invalid: null, behaviorText };
    });

    const msHeader = req.headers.get("x-standin-batch-processing-ms");
    const processingMs = msHeader === null ? config.processing_ms : Number(msHeader);
    if (!Number.isInteger(processingMs) || processingMs < 0) {
      return apiError(
        400,
        "invalid_request_error",
        `x-standin-batch-processing-ms: "${msHeader}" is not a whole number of milliseconds`,
      );
    }
    const seedHeader = req.headers.get("x-standin-seed");
    const orderSeed = config.seed ??
      hashSeed(seedHeader ?? requests.map((r) => r.customId).join("\n"));
    const now = deps.now();
    const b: Batch = {
      id: batchId(),
      createdAt: now,
      expiresAt: now + DAY_MS,
      processingMs,
      cancelMs: config.cancel_ms,
      requests,
      order: permutation(requests.length, orderSeed),
      status: "in_progress",
      forcedProcessed: 0,
      processedAtCancel: 0,
      cancelInitiatedAt: null,
      endedAt: null,
      archivedAt: null,
      fates: null,
      callIndexes: null,
      counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    };
    batches.set(b.id, b);
    deps.log(JSON.stringify({
      event: "standin_batch_created",
      id: b.id,
      requests: requests.length,
      processing_ms: processingMs,
    }));
    return Response.json(view(b, origin));
  }

  function list(url: URL, origin: string): Response {
    const q = listQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!q.success) {
      const issue = q.error.issues[0];
      return apiError(400, "invalid_request_error", `${issue.path.join(".")}: ${issue.message}`);
    }
    const { limit, after_id, before_id } = q.data;
    if (after_id !== undefined && before_id !== undefined) {
      return apiError(400, "invalid_request_error", "after_id, before_id: send one cursor, not both");
    }
    const now = deps.now();
    const all = [...batches.values()].reverse(); // newest first
    let from = 0;
    let to = all.length;
    if (after_id !== undefined) {
      const at = all.findIndex((b) => b.id === after_id);
      if (at === -1) return notFound(after_id);
      from = at + 1;
      to = Math.min(all.length, from + limit);
    } else if (before_id !== undefined) {
      const at = all.findIndex((b) => b.id === before_id);
      if (at === -1) return notFound(before_id);
      to = at;
      from = Math.max(0, to - limit);
    } else {
      to = Math.min(all.length, limit);
    }
    const page = all.slice(from, to);
    for (const b of page) advance(b, now);
    return Response.json({
      data: page.map((b) => view(b, origin)),
      has_more: before_id !== undefined ? from > 0 : to < all.length,
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
    });
  }

  function resultLine(b: Batch, pos: number): string {
    const r = b.requests[b.order[pos]];
    const fate = b.fates![pos];
    const custom_id = r.customId;
    const reqId = `req_local_${hashSeed(`${b.id}:${custom_id}`).toString(36)}`;
    const errored = (type: string, message: string, details?: Record<string, unknown>) =>
      JSON.stringify({
        custom_id,
        result: {
          type: "errored",
          error: {
            type: "error",
            error: details ? { type, message, details } : { type, message },
            request_id: reqId,
          },
        },
      });
    if (fate === "canceled" || fate === "expired") {
      return JSON.stringify({ custom_id, result: { type: fate } });
    }
    if (fate === "invalid" || r.params === null) {
      return errored("invalid_request_error", r.invalid ?? "invalid request");
    }
    const params = r.params;
    const spec: BehaviorSpec = parseBehavior(r.behaviorText);
    const seed = hashSeed(custom_id);
    const prompt = promptText(params);
    const hasOutputFormat = !!params.output_config?.format;
    const forcedTool = params.tool_choice?.type === "tool" || params.tool_choice?.type === "any";
    const toolName = params.tool_choice?.name ?? params.tools?.[0]?.name ?? null;
    const outcome: Outcome = fate === "clean" && forcedTool && toolName !== null ? "tool_use" : fate;
    const conv = buildConversation(scaffoldingFromPrompt(prompt), seed);
    const reply = renderReply(outcome, conv, {
      maxTokens: params.max_tokens,
      hasOutputFormat,
      toolName,
      retryAfterSec: spec.retryAfterSec,
      overloadedRetryAfterSec: spec.overloadedRetryAfterSec ?? null,
    }, seed);
    if (reply.kind === "error") return errored(reply.errorType, reply.message, reply.details);
    // No connection to drop inside a batch: a cut answer or a mid-stream error is a failed request.
    if (reply.midStreamError) return errored("overloaded_error", "Overloaded");
    if (reply.cut) return errored("api_error", "Internal server error");
    const id = `msg_local_${seed.toString(36)}_${b.callIndexes![pos]}_${hashSeed(b.id).toString(36)}`;
    const message = messageBody(reply, params.model, id, estimateTokens(prompt) + 8, "batch");
    return JSON.stringify({ custom_id, result: { type: "succeeded", message } });
  }

  function results(b: Batch): Response {
    const n = b.requests.length;
    let cutAt = n + 1;
    if (fault && fault.remaining > 0 && (fault.batchId === null || fault.batchId === b.id)) {
      cutAt = fault.afterLines ?? Math.floor(n / 2);
      fault.remaining--;
      deps.log(JSON.stringify({ event: "standin_batch_results_cut", id: b.id, after_lines: cutAt }));
    }
    const encoder = new TextEncoder();
    let pos = 0;
    let cut = false;
    const body = new ReadableStream<Uint8Array>({
      // Pulled: a line is rendered only when the client has room for it, so memory stays flat.
      pull(controller) {
        // Error only once the bytes before the cut were read: error() discards what is still queued, and a
        // real dropped connection delivers what was sent before it.
        if (cut) return controller.error(new Error("stand-in: results download cut midway"));
        const lines: string[] = [];
        while (pos < n && lines.length < 64) {
          if (pos === cutAt) {
            const line = resultLine(b, pos);
            controller.enqueue(encoder.encode(lines.join("") + line.slice(0, Math.floor(line.length / 2))));
            cut = true;
            return;
          }
          lines.push(resultLine(b, pos) + "\n");
          pos++;
        }
        if (lines.length > 0) controller.enqueue(encoder.encode(lines.join("")));
        if (pos >= n) controller.close();
      },
    }, { highWaterMark: 1 });
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/x-jsonl",
        "request-id": `req_local_${hashSeed(b.id).toString(36)}`,
      },
    });
  }

  async function handle(req: Request, path: string): Promise<Response> {
    const url = new URL(req.url);
    const origin = url.origin;
    if (path === "/v1/messages/batches") {
      if (req.method === "POST") return await create(req, origin);
      if (req.method === "GET") return list(url, origin);
      return apiError(405, "invalid_request_error", `Method ${req.method} not allowed`);
    }
    const m = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path);
    if (!m) return apiError(404, "not_found_error", `Not found: ${path}`);
    const id = decodeURIComponent(m[1]);
    const b = batches.get(id);
    if (!b) return notFound(id);
    const now = deps.now();
    advance(b, now);
    const action = m[2] ?? "";
    if (action === "" && req.method === "GET") return Response.json(view(b, origin));
    if (action === "" && req.method === "DELETE") {
      if (b.status !== "ended") {
        return apiError(
          400,
          "invalid_request_error",
          `Cannot delete message batch "${id}": processing_status is ${b.status}; cancel it and wait until it has ended`,
        );
      }
      batches.delete(id);
      return Response.json({ id, type: "message_batch_deleted" });
    }
    if (action === "/cancel" && req.method === "POST") {
      if (b.status === "ended") {
        return apiError(
          400,
          "invalid_request_error",
          `Cannot cancel message batch "${id}": processing_status is ended`,
        );
      }
      if (b.status === "in_progress") {
        b.processedAtCancel = processedBy(b, now);
        b.status = "canceling";
        b.cancelInitiatedAt = now;
        b.cancelMs = config.cancel_ms;
      }
      // The answer shows `canceling` even when cancellation completes at once (cancel_ms 0), as the API does.
      return Response.json(view(b, origin));
    }
    if (action === "/results" && req.method === "GET") {
      if (b.status !== "ended") {
        return apiError(
          400,
          "invalid_request_error",
          `Cannot fetch results of message batch "${id}": processing_status is ${b.status}`,
        );
      }
      if (b.archivedAt !== null) {
        return apiError(404, "not_found_error", `Cannot fetch results of message batch "${id}": archived`);
      }
      return results(b);
    }
    return apiError(405, "invalid_request_error", `Method ${req.method} not allowed`);
  }

  async function body(req: Request): Promise<unknown> {
    const text = await req.text();
    if (text.trim() === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  function adminError(message: string, status = 400): Response {
    return Response.json({ error: message }, { status });
  }

  function summary(b: Batch, now: number) {
    return {
      id: b.id,
      processing_status: b.status,
      requests: b.requests.length,
      processed: b.status === "ended"
        ? b.requests.length - b.counts.canceled - b.counts.expired
        : processedBy(b, now),
      request_counts: view(b, "").request_counts,
      processing_ms: b.processingMs,
      created_at: iso(b.createdAt),
      ended_at: iso(b.endedAt),
    };
  }

  async function admin(req: Request, path: string): Promise<Response> {
    const now = deps.now();
    if (path === "/__admin/batches" && req.method === "GET") {
      const all = [...batches.values()];
      for (const b of all) advance(b, now);
      return Response.json(all.map((b) => summary(b, now)));
    }
    if (path === "/__admin/batches/config") {
      if (req.method === "POST") {
        const p = z.object({
          processing_ms: z.number().int().min(0).optional(),
          cancel_ms: z.number().int().min(0).optional(),
          seed: z.number().int().min(0).nullable().optional(),
        }).strict().safeParse(await body(req));
        if (!p.success) {
          return adminError('send {"processing_ms"?: N, "cancel_ms"?: N, "seed"?: N | null}');
        }
        config = { ...config, ...p.data };
      }
      return Response.json(config);
    }
    if (path === "/__admin/batches/fault" && req.method === "POST") {
      const p = z.object({
        cut_after_lines: z.number().int().min(0).nullable().optional(),
        times: z.number().int().min(0).optional(),
        batch_id: z.string().nullable().optional(),
      }).strict().safeParse(await body(req));
      if (!p.success) {
        return adminError('send {"cut_after_lines"?: N | null, "times"?: N, "batch_id"?: "msgbatch_…"}');
      }
      const times = p.data.times ?? 1;
      fault = times === 0
        ? null
        : { afterLines: p.data.cut_after_lines ?? null, remaining: times, batchId: p.data.batch_id ?? null };
      return Response.json({
        cut_after_lines: fault?.afterLines ?? null,
        times: fault?.remaining ?? 0,
        batch_id: fault?.batchId ?? null,
      });
    }
    const m = /^\/__admin\/batches\/([^/]+)\/(end|expire|process|archive)$/.exec(path);
    if (m && req.method === "POST") {
      const b = batches.get(m[1]);
      if (!b) return adminError(`Cannot find batch "${m[1]}"`, 404);
      advance(b, now);
      const p = z.object({ count: z.number().int().min(0).optional() }).strict().safeParse(await body(req));
      if (!p.success) return adminError('send {} or {"count": N}');
      const verb = m[2];
      if (verb === "archive") {
        if (b.status !== "ended") return adminError(`Cannot archive batch "${b.id}": it has not ended`, 409);
        b.archivedAt = now;
      } else if (b.status === "ended") {
        return adminError(`Cannot ${verb} batch "${b.id}": it has ended`, 409);
      } else if (verb === "end") {
        finish(
          b,
          b.status === "canceling" ? b.processedAtCancel : b.requests.length,
          b.status === "canceling" ? "canceled" : "expired",
          now,
        );
      } else if (verb === "expire") {
        const processed = Math.min(b.requests.length, p.data.count ?? processedBy(b, now));
        finish(b, processed, b.status === "canceling" ? "canceled" : "expired", now);
      } else {
        if (b.status !== "in_progress") {
          return adminError(`Cannot process batch "${b.id}": it is canceling`, 409);
        }
        b.forcedProcessed = Math.min(b.requests.length, p.data.count ?? b.requests.length);
      }
      return Response.json(summary(b, now));
    }
    return adminError("not found", 404);
  }

  return {
    handle,
    admin,
    reset() {
      batches.clear();
      config = { ...DEFAULT_BATCH_CONFIG };
      fault = null;
    },
  };
}
