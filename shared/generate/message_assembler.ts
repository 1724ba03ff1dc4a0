/**
 * Rebuilds the Messages API response body from a stream of server-sent events, the way the SDK's
 * `finalMessage()` does — but keeping everything that arrived when the stream breaks, and without "repairing"
 * anything. This body is what generate-conversation stores verbatim in `raw/{user_id}/{conversation_id}.json`.
 *
 * Differences from the SDK's accumulator, on purpose:
 * - a `tool_use` block's `input` is parsed from the received JSON only when the block finished; when the stream
 *   broke inside it, `input` is the received JSON text as a string (the SDK would have closed the cut-off JSON
 *   with its partial parser — that is how a truncated document starts to look complete). The parse engine
 *   reads a string `input` through its text steps, which report the truncation;
 * - `stop_reason` stays null unless a `message_delta` delivered one, so a truncated body says so by itself.
 *
 * used by: shared/adapters/anthropic_claude_client.ts
 */

export type JsonObject = { [key: string]: unknown };

export interface StreamEvent {
  type: string;
  [key: string]: unknown;
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * Reasoning blocks come before the answer when the model thinks. They are kept in the stored body, but they are
 * not the answer: a stream that breaks while the model is still thinking delivered nothing to parse, so it is a
 * transient failure to retry, not a truncated answer to store.
 */
const REASONING_BLOCKS = new Set(["thinking", "redacted_thinking"]);
const REASONING_DELTAS = new Set(["thinking_delta", "signature_delta"]);

function isAnswerBlock(block: JsonObject): boolean {
  if (REASONING_BLOCKS.has(String(block.type))) return false;
  if (block.type === "text") return typeof block.text === "string" && block.text !== "";
  return true;
}

export class MessageAssembler {
  #message: JsonObject | null = null;
  #content: JsonObject[] = [];
  #jsonBuffers = new Map<number, string>();
  #finishedBlocks = new Set<number>();
  #stopped = false;
  #contentBegan = false;

  /**
   * True once an answer block carried something (text, a tool call): from then on nothing is dropped. Thinking
   * does not count (REASONING_BLOCKS).
   */
  get contentBegan(): boolean {
    return this.#contentBegan;
  }

  /** True after `message_stop`: the stream ended as the protocol says it should. */
  get complete(): boolean {
    return this.#stopped;
  }

  get started(): boolean {
    return this.#message !== null;
  }

  apply(event: StreamEvent): void {
    switch (event.type) {
      case "message_start": {
        const message = isObject(event.message) ? clone(event.message) : {};
        this.#message = message;
        this.#content = Array.isArray(message.content) ? (message.content as JsonObject[]) : [];
        if (this.#content.some((b) => isObject(b) && isAnswerBlock(b))) this.#contentBegan = true;
        break;
      }
      case "content_block_start": {
        const index = typeof event.index === "number" ? event.index : this.#content.length;
        const block = isObject(event.content_block) ? clone(event.content_block) : { type: "unknown" };
        this.#content[index] = block;
        // A tool_use block is content as soon as it starts: its id and name are already information.
        if (isAnswerBlock(block)) this.#contentBegan = true;
        break;
      }
      case "content_block_delta": {
        const index = typeof event.index === "number" ? event.index : this.#content.length - 1;
        const block = this.#content[index];
        const delta = isObject(event.delta) ? event.delta : {};
        if (!block) break;
        switch (delta.type) {
          case "text_delta":
            block.text = `${typeof block.text === "string" ? block.text : ""}${String(delta.text ?? "")}`;
            break;
          case "input_json_delta":
            this.#jsonBuffers.set(
              index,
              `${this.#jsonBuffers.get(index) ?? ""}${String(delta.partial_json ?? "")}`,
            );
            break;
          case "thinking_delta":
            block.thinking = `${typeof block.thinking === "string" ? block.thinking : ""}${
              String(delta.thinking ?? "")
            }`;
            break;
          case "signature_delta":
            block.signature = String(delta.signature ?? "");
            break;
          case "citations_delta": {
            const citations = Array.isArray(block.citations) ? block.citations : [];
            citations.push(delta.citation);
            block.citations = citations;
            break;
          }
          default:
            break;
        }
        if (!REASONING_DELTAS.has(String(delta.type)) && !REASONING_BLOCKS.has(String(block.type))) {
          this.#contentBegan = true;
        }
        break;
      }
      case "content_block_stop": {
        const index = typeof event.index === "number" ? event.index : this.#content.length - 1;
        this.#finishedBlocks.add(index);
        break;
      }
      case "message_delta": {
        if (!this.#message) this.#message = {};
        const delta = isObject(event.delta) ? event.delta : {};
        for (const [k, v] of Object.entries(delta)) this.#message[k] = clone(v);
        if (isObject(event.usage)) {
          const usage = isObject(this.#message.usage) ? this.#message.usage : {};
          for (const [k, v] of Object.entries(event.usage)) {
            if (v !== null && v !== undefined) usage[k] = clone(v);
          }
          this.#message.usage = usage;
        }
        break;
      }
      case "message_stop":
        this.#stopped = true;
        break;
      default:
        break;
    }
  }

  /** The Message object as it stands: complete after `message_stop`, otherwise what arrived. */
  message(): JsonObject {
    const base: JsonObject = this.#message ? clone(this.#message) : { type: "message", role: "assistant" };
    const content = this.#content.map((block, index) => {
      if (!block) return { type: "unknown" };
      const out = clone(block);
      const buffered = this.#jsonBuffers.get(index);
      if (out.type === "tool_use" || out.type === "server_tool_use" || buffered !== undefined) {
        if (buffered !== undefined) {
          let parsed: unknown = undefined;
          if (this.#finishedBlocks.has(index)) {
            try {
              parsed = buffered.trim() === "" ? {} : JSON.parse(buffered);
            } catch {
              parsed = undefined;
            }
          }
          out.input = parsed !== undefined ? parsed : buffered;
        }
      }
      return out;
    });
    base.content = content;
    if (!("stop_reason" in base)) base.stop_reason = null;
    if (!("stop_sequence" in base)) base.stop_sequence = null;
    return base;
  }
}
