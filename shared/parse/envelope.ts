/**
 * Step 1 of the parse chain: read the stored raw object, a Messages API response body, into the text (or tool
 * input) that holds the conversation, plus `stop_reason`, model and usage.
 *
 * called by: shared/parse/chain.ts; next: the JSON steps (direct, extract, repair).
 */
import { isRecord } from "./_is_record.ts";
import type { Fix, ParseError } from "./result.ts";
import { parseError } from "./result.ts";

/** Where the conversation is: concatenated text blocks, or a tool_use block's parsed `input`. */
export type EnvelopeContent =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "tool_use"; readonly input: unknown };

export interface Envelope {
  readonly content: EnvelopeContent;
  readonly stopReason: string | null;
  readonly model: string | null;
  readonly id: string | null;
  readonly usage: { readonly inputTokens: number | null; readonly outputTokens: number | null } | null;
}

export type EnvelopeResult =
  | { readonly ok: true; readonly envelope: Envelope; readonly fixes: readonly Fix[] }
  | { readonly ok: false; readonly error: ParseError };

function invalid(state: string): EnvelopeResult {
  return { ok: false, error: parseError("invalid_envelope", `Cannot read response: ${state}`) };
}

// fatal: bytes that are not UTF-8 are reported, never replaced by U+FFFD (that would alter the content).
// ignoreBOM: a byte order mark stays in the text so that the fix that removes it is recorded.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** Reads the envelope. Never throws; a body that is not a Messages API response gives `invalid_envelope`. */
export function readEnvelope(raw: string | Uint8Array): EnvelopeResult {
  let body: string;
  if (typeof raw === "string") {
    body = raw;
  } else {
    try {
      body = utf8.decode(raw);
    } catch {
      return invalid("the body is not valid UTF-8");
    }
  }
  const fixes: Fix[] = [];
  if (body.charCodeAt(0) === 0xfeff) {
    body = body.slice(1);
    fixes.push({ step: "envelope", code: "strip_bom" });
  }

  let message: unknown;
  try {
    message = JSON.parse(body);
  } catch {
    return invalid("the body is not JSON");
  }
  if (!isRecord(message)) return invalid("the body is not a Messages API response");
  if (message.type === "error") return invalid("the body is an API error");
  if (message.type !== "message" || !Array.isArray(message.content)) {
    return invalid("the body is not a Messages API response");
  }
  if (message.role !== undefined && message.role !== "assistant") {
    return invalid("the message role is not assistant");
  }

  const texts: string[] = [];
  let toolInput: { value: unknown } | null = null;
  for (const block of message.content) {
    if (!isRecord(block)) continue;
    if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
    // The first tool_use block carries the conversation when the request forced a tool; later ones are ignored.
    if (block.type === "tool_use" && toolInput === null && block.input !== undefined) {
      toolInput = { value: block.input };
    }
    // thinking, redacted_thinking and server tool blocks are not output: skipped.
  }

  let content: EnvelopeContent;
  if (toolInput !== null) {
    fixes.push({ step: "envelope", code: "use_tool_input" });
    // Some gateways pass tool input through as a JSON string; it then goes through the text steps.
    content = typeof toolInput.value === "string"
      ? { kind: "text", text: toolInput.value }
      : { kind: "tool_use", input: toolInput.value };
  } else {
    // Joined with "": a document split across blocks stays intact (upstream's "\n" could land inside a string).
    if (texts.length > 1) {
      fixes.push({ step: "envelope", code: "join_text_blocks", detail: `${texts.length} blocks` });
    }
    content = { kind: "text", text: texts.join("") };
  }

  const usage = isRecord(message.usage)
    ? {
      inputTokens: numberOrNull(message.usage.input_tokens),
      outputTokens: numberOrNull(message.usage.output_tokens),
    }
    : null;
  return {
    ok: true,
    envelope: {
      content,
      stopReason: typeof message.stop_reason === "string" ? message.stop_reason : null,
      model: typeof message.model === "string" ? message.model : null,
      id: typeof message.id === "string" ? message.id : null,
      usage,
    },
    fixes,
  };
}
