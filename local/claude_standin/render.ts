/**
 * Turns a conversation and a concrete outcome into what the Messages API would have said: content blocks, a
 * stop reason and token usage, or an error. Pure; the server (server.ts) only adds HTTP and SSE framing.
 *
 * Real-API rules kept here: `max_tokens` truncates any answer that would be longer (stop_reason `max_tokens`),
 * structured outputs answer with compact JSON in a text block, a forced tool answers with a `tool_use` block
 * (stop_reason `tool_use`), errors use the `{"type":"error","error":{type,message}}` envelope.
 */
import type { Outcome } from "./behavior.ts";
import type { StandinConversation } from "./conversation.ts";

export type ContentBlock =
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "text"; text: string; citations: null }
  | { type: "tool_use"; id: string; name: string; input: unknown; caller: { type: "direct" } };

export interface StopDetails {
  type: "refusal";
  category: null;
  explanation: string;
}

export interface MessageReply {
  kind: "message";
  content: ContentBlock[];
  stopReason: "end_turn" | "max_tokens" | "tool_use" | "refusal";
  stopDetails: StopDetails | null;
  outputTokens: number;
  /** Cut the answer midway and drop the connection (no message_stop / incomplete JSON body). */
  cut: boolean;
  /** Send an SSE `error` event midway instead of finishing the stream. */
  midStreamError: boolean;
  /** With `cut`: drop the connection inside the first (thinking) block, before any answer text. */
  cutInThinking?: boolean;
}

export interface ErrorReply {
  kind: "error";
  status: number;
  errorType: string;
  message: string;
  headers: Record<string, string>;
  /** `error.details` (the spend-limit 429 carries `error_code` there). */
  details?: Record<string, unknown>;
}

export type Reply = MessageReply | ErrorReply;

export interface RenderRequest {
  maxTokens: number;
  hasOutputFormat: boolean;
  toolName: string | null;
  retryAfterSec: number;
  /** `overloaded:N` sends `retry-after: N`; null sends none. */
  overloadedRetryAfterSec?: number | null;
}

/** About four characters per token, as for English prose and JSON. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function pretty(conv: StandinConversation): string {
  return JSON.stringify(conv, null, 2);
}

function withTrailingCommas(json: string): string {
  // Pretty-printed JSON puts every closing bracket on its own line, and strings never contain a raw newline,
  // so "value⏎  }" is always the end of an object or array: insert the comma there.
  return json.replace(/([^\s[{,])(\n\s*[}\]])/g, "$1,$2");
}

function withUnescapedQuotes(conv: StandinConversation): string {
  const copy = structuredClone(conv);
  if (!copy.turns.some((t) => t.content.includes('"'))) {
    copy.turns[0].content = `My advisor said "don't panic" but ${copy.turns[0].content}`;
  }
  // Only content strings carry quotes (conversation.ts strips them from everything else), so every escaped
  // quote in the document is an inner quote: unescape them all, as a model writing JSON by hand does.
  return pretty(copy).replace(/\\"/g, '"');
}

/** A string cut partway into a turn's content, as a model stopped by max_tokens leaves it. */
function cutMidString(json: string): string {
  const from = Math.floor(json.length * 0.55);
  const key = json.indexOf('"content": "', from);
  const at = key === -1 ? Math.floor(json.length * 0.6) : key + '"content": "'.length + 17;
  return json.slice(0, at);
}

function truncatedContent(conv: StandinConversation): StandinConversation {
  const copy = structuredClone(conv);
  // Drop the final assistant turn and cut the (now last) user turn mid-sentence, ending on a lone quote.
  copy.turns.pop();
  const last = copy.turns[copy.turns.length - 1];
  if (last) last.content = `${last.content.slice(0, Math.max(8, Math.floor(last.content.length / 2)))}"`;
  return copy;
}

function text(t: string): ContentBlock {
  return { type: "text", text: t, citations: null };
}

/** Extended thinking: a reasoning block (with its signature) before the answer, as thinking models send it. */
function thinking(conv: StandinConversation): ContentBlock {
  const t = `The persona should move through the emotional arc across ${conv.turns.length} turns. ` +
    "I will keep the advisor calm and concrete, then write the JSON the schema asks for.";
  return {
    type: "thinking",
    thinking: t,
    signature: `EqQBCkgIARABGAIiQ${t.length.toString(36)}StandinSignature`,
  };
}

function message(
  content: ContentBlock[],
  stopReason: MessageReply["stopReason"],
  outputText: string,
  extra: Partial<MessageReply> = {},
): MessageReply {
  return {
    kind: "message",
    content,
    stopReason,
    stopDetails: null,
    outputTokens: outputText === "" ? 0 : estimateTokens(outputText),
    cut: false,
    midStreamError: false,
    ...extra,
  };
}

/** The real API stops at max_tokens: anything longer is cut there and reported as `max_tokens`. */
function capAtMaxTokens(reply: MessageReply, maxTokens: number): MessageReply {
  if (reply.outputTokens <= maxTokens) return reply;
  const block = reply.content[0];
  if (block?.type === "text") {
    return {
      ...reply,
      content: [text(block.text.slice(0, maxTokens * 4))],
      stopReason: "max_tokens",
      outputTokens: maxTokens,
    };
  }
  if (block?.type === "tool_use") {
    // A tool call cut by max_tokens arrives with whatever input was complete: here, nothing usable.
    return {
      ...reply,
      content: [{ ...block, input: {} }],
      stopReason: "max_tokens",
      outputTokens: maxTokens,
    };
  }
  return reply;
}

export function toolUseId(seed: number): string {
  return `toolu_01${seed.toString(36).padStart(8, "0")}${"StandinTool".slice(0, 14)}`;
}

export function renderReply(
  outcome: Outcome,
  conv: StandinConversation,
  req: RenderRequest,
  seed: number,
): Reply {
  const json = pretty(conv);
  switch (outcome) {
    case "rate_limited":
      return {
        kind: "error",
        status: 429,
        errorType: "rate_limit_error",
        message: "This request would exceed the rate limit for your organization (local stand-in)",
        headers: { "retry-after": String(req.retryAfterSec) },
      };
    case "overloaded":
      return {
        kind: "error",
        status: 529,
        errorType: "overloaded_error",
        message: "Overloaded",
        headers: req.overloadedRetryAfterSec == null
          ? {}
          : { "retry-after": String(req.overloadedRetryAfterSec) },
      };
    case "spend_limit":
      // The real spend-limit 429: no retry-after (waiting seconds does not help), the reason in error.details.
      return {
        kind: "error",
        status: 429,
        errorType: "rate_limit_error",
        message:
          "You have reached your specified API usage limits. You will regain access on the first day of " +
          "next month at 00:00 UTC.",
        headers: {},
        details: { error_code: "spend_limit_reached" },
      };
    case "server_error":
      return {
        kind: "error",
        status: 500,
        errorType: "api_error",
        message: "Internal server error",
        headers: {},
      };
    case "schema_rejected":
      return {
        kind: "error",
        status: 400,
        errorType: "invalid_request_error",
        // The real API's wording for an unsupported schema keyword: it names no parameter.
        message: "For number type, properties maximum, minimum are not supported",
        headers: {},
      };
    case "refusal": {
      const t = "I can't help with creating this conversation.";
      return message([text(t)], "refusal", t, {
        stopDetails: {
          type: "refusal",
          category: null,
          explanation: "The local stand-in was asked to refuse this request.",
        },
      });
    }
    case "empty":
      return message([], "end_turn", "");
    case "truncated": {
      const cut = cutMidString(json);
      return { ...message([text(cut)], "max_tokens", cut), outputTokens: req.maxTokens };
    }
    case "truncated_content": {
      const t = pretty(truncatedContent(conv));
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
    case "fenced": {
      const t = "```json\n" + json + "\n```";
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
    case "prose_wrapped": {
      const t =
        "Here is the training conversation, following the persona and emotional arc you described:\n\n" +
        json +
        "\n\nThe client's emotions move gradually across the turns, and the advisor stays calm and concrete.";
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
    case "trailing_commas": {
      const t = withTrailingCommas(json);
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
    case "unescaped_quotes": {
      const t = withUnescapedQuotes(conv);
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
    case "tool_use": {
      if (req.toolName !== null) {
        const input = JSON.stringify(conv);
        return capAtMaxTokens(
          message(
            [{
              type: "tool_use",
              id: toolUseId(seed),
              name: req.toolName,
              input: conv,
              caller: { type: "direct" },
            }],
            "tool_use",
            input,
          ),
          req.maxTokens,
        );
      }
      // No tool offered: the model cannot call one; answer as text.
      return capAtMaxTokens(message([text(json)], "end_turn", json), req.maxTokens);
    }
    case "stream_cut":
      return { ...message([text(json)], "end_turn", json), cut: true };
    case "thinking": {
      const t = req.hasOutputFormat ? JSON.stringify(conv) : json;
      const reply = capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
      return { ...reply, content: [thinking(conv), ...reply.content] };
    }
    case "thinking_cut":
      return { ...message([thinking(conv), text(json)], "end_turn", json), cut: true, cutInThinking: true };
    case "stream_error":
      return { ...message([text(json)], "end_turn", json), midStreamError: true };
    case "structured":
    case "clean": {
      // Structured outputs come back as compact JSON; free-form answers as the model formats them (pretty).
      const t = req.hasOutputFormat ? JSON.stringify(conv) : json;
      return capAtMaxTokens(message([text(t)], "end_turn", t), req.maxTokens);
    }
  }
}
