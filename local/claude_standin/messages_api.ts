/**
 * What `POST /v1/messages` and the Message Batches API share: the request schema (a batch request's `params`
 * is the same body, minus streaming), the prompt text the stand-in reads its scaffolding and markers from, the
 * `request-id` format, and the Message object with its usage. Pure; server.ts and batches.ts add HTTP.
 */
import { z } from "zod";
import type { MessageReply } from "./render.ts";

const textBlock = z.object({ type: z.literal("text"), text: z.string() }).loose();
const anyBlock = z.object({ type: z.string() }).loose();
const contentSchema = z.union([z.string(), z.array(anyBlock)]);

export const messagesRequestSchema = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(z.object({ role: z.enum(["user", "assistant"]), content: contentSchema })).min(1),
  system: z.union([z.string(), z.array(anyBlock)]).optional(),
  stream: z.boolean().optional(),
  output_config: z.object({
    format: z.object({ type: z.string(), schema: z.record(z.string(), z.unknown()) }).loose().nullable()
      .optional(),
  }).loose().optional(),
  tools: z.array(z.object({ name: z.string() }).loose()).optional(),
  tool_choice: z.object({ type: z.string(), name: z.string().optional() }).loose().optional(),
  metadata: z.object({ user_id: z.string().optional() }).loose().optional(),
}).loose();

export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

function contentText(content: z.infer<typeof contentSchema>): string {
  if (typeof content === "string") return content;
  return content.map((b) => {
    const t = textBlock.safeParse(b);
    return t.success ? t.data.text : "";
  }).join("\n");
}

/** Everything the model would read: system prompt and every message, in order. */
export function promptText(req: MessagesRequest): string {
  const system = req.system === undefined ? "" : contentText(req.system);
  return [system, ...req.messages.map((m) => contentText(m.content))].filter((s) => s !== "").join("\n\n");
}

/** A behaviour chosen inside the prompt: `[standin:fenced]`, `[standin:slow:1500+truncated]`. */
export const MARKER = /\[standin:([a-z0-9_:+\s-]+)\]/i;

export function requestId(): string {
  return `req_local_${crypto.randomUUID().replace(/-/g, "").slice(0, 20)}`;
}

/** `standard` for /v1/messages; `batch` for a Message inside a batch result, as the real API reports it. */
export type ServiceTier = "standard" | "batch";

export function usage(inputTokens: number, outputTokens: number, tier: ServiceTier = "standard") {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: tier,
  };
}

export function messageBody(
  reply: MessageReply,
  model: string,
  id: string,
  inputTokens: number,
  tier: ServiceTier = "standard",
) {
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content: reply.content,
    stop_reason: reply.stopReason,
    stop_sequence: null,
    stop_details: reply.stopDetails,
    container: null,
    usage: usage(inputTokens, reply.outputTokens, tier),
  };
}
