/**
 * The Claude port: what generate-conversation asks of a Claude client and what it gets back. The domain owns
 * this contract; shared/adapters/anthropic_claude_client.ts implements it over `@anthropic-ai/sdk` and
 * translates every SDK and HTTP failure at its edge into a `ClaudeFailure` value (it never throws). Tests pass
 * fakes.
 */
import type { JsonObject } from "./message_assembler.ts";

export interface ClaudeRequest {
  model: string;
  system: string;
  prompt: string;
  maxTokens: number;
  /** JSON Schema for `output_config.format`; null to ask for JSON by instructions only. */
  outputSchema: Record<string, unknown> | null;
  /** Appended to the prompt when structured outputs are not used. */
  plainJsonInstructions: string;
  /** Sent as `metadata.user_id` (an opaque uuid, never an email) for Anthropic's abuse detection. */
  userId?: string;
  /** For log lines. */
  conversationId?: string;
  /**
   * Called after every stream event (synchronously: keep it cheap). generate-conversation checkpoints the partial
   * answer from here (shared/generate/checkpoint.ts).
   */
  onProgress?: (progress: ClaudeProgress) => void;
}

/** Where a stream stands: what has arrived so far, and the partial Message on demand. */
export interface ClaudeProgress {
  /** Characters of content received in this attempt (text, tool input JSON, thinking). */
  receivedChars: number;
  contentBegan: boolean;
  attempt: number;
  /** The Message as it stands (assembled on each call: call it only when it is needed). */
  snapshot(): JsonObject;
}

export interface ClaudeUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cache_creation_input_tokens: number | null;
  cache_read_input_tokens: number | null;
}

export interface ClaudeAnswer {
  /** The serialized Message object: the bytes to store. */
  body: string;
  message: JsonObject;
  model: string | null;
  stopReason: string | null;
  usage: ClaudeUsage;
  /** The stream ended before `message_stop` (broken connection, timeout, mid-stream error). */
  truncated: boolean;
  truncation: "stream_cut" | "timeout" | "stream_error" | null;
  structuredOutput: boolean;
  attempts: number;
  requestId: string | null;
}

export interface ClaudeFailure {
  /** `unavailable`: rate limits, overload, 503, timeouts, connection — try later. `failed`: anything else. */
  kind: "unavailable" | "failed";
  status: number | null;
  errorType: string | null;
  message: string;
  attempts: number;
  /** The last retry-after the API asked for, when it did. */
  retryAfterMs: number | null;
  requestId: string | null;
}

export type ClaudeResult = { ok: true; answer: ClaudeAnswer } | { ok: false; failure: ClaudeFailure };

export interface ClaudeClient {
  generate(request: ClaudeRequest): Promise<ClaudeResult>;
}
