/**
 * Stream checkpoints: while Claude's answer streams, the partial Message is written to raw_response_spool (kind
 * `checkpoint`, the same row the final write-ahead later replaces) at most every `checkpointEveryMs` or
 * `checkpointEveryChars` of new content, whichever comes first. A worker killed mid-stream thus leaves the text
 * received up to its last checkpoint: when the checkpoint's lease ends the sweeper's flush uploads it, and the
 * parse reads it as truncated (`stop_reason` null) → review, with the usage the stream had reported.
 *
 * Event-driven: a checkpoint is considered only when an event arrives (a stalled stream has nothing new to
 * save). At most one write is in flight; a due checkpoint while one is in flight waits for the next event.
 * `close()` waits for the write in flight and refuses later ones, so a late checkpoint can never overwrite the
 * final answer's write-ahead. Writes are fire-and-forget for the stream: a failed checkpoint is logged and the
 * stream goes on (the final write-ahead is what matters; a checkpoint only narrows what a kill can lose).
 *
 * used by: shared/generate/call_claude.ts (ClaudeRequest.onProgress); docs/GENERATE.md "Stream checkpoints"
 */
import type { ClaudeProgress } from "./claude_client.ts";
import type { ClaudeRecord, ConversationRepo } from "./conversation_repo.ts";
import { sha256Hex } from "../pipeline/sha256.ts";
import { logger } from "../log.ts";
import { estimateCostUsd } from "./cost.ts";

export interface CheckpointSettings {
  /** 0 turns time-based checkpoints off. */
  checkpointEveryMs: number;
  /** 0 turns size-based checkpoints off. */
  checkpointEveryChars: number;
  /** How long a checkpoint stays due-later: past the platform's wall clock, so its worker is surely gone. */
  checkpointLeaseMs: number;
  model: string;
}

export interface CheckpointStats {
  written: number;
  failed: number;
  /** Wall time of the checkpoint statements (they run beside the stream, not in its way). */
  writeMs: number;
  /** Bytes of the last checkpoint written. */
  lastBytes: number;
}

export class StreamCheckpointer {
  readonly stats: CheckpointStats = { written: 0, failed: 0, writeMs: 0, lastBytes: 0 };
  /** Monotonic time of the last stream event: where the in-memory window of the final answer starts. */
  lastEventAt: number | null = null;
  #startedAt: number | null = null;
  #lastAt = 0;
  #lastChars = 0;
  #inFlight: Promise<void> | null = null;
  #closed = false;

  constructor(
    private readonly repo: Pick<ConversationRepo, "writeAhead">,
    private readonly settings: CheckpointSettings,
    private readonly conversationId: string,
    private readonly now: () => number,
  ) {}

  get enabled(): boolean {
    return this.settings.checkpointEveryMs > 0 || this.settings.checkpointEveryChars > 0;
  }

  /** The ClaudeRequest.onProgress callback. */
  readonly onProgress = (p: ClaudeProgress): void => {
    const t = this.now();
    this.lastEventAt = t;
    if (this.#closed || !this.enabled || !p.contentBegan || this.#inFlight) return;
    if (this.#startedAt === null) {
      this.#startedAt = t;
      this.#lastAt = t;
    }
    const byTime = this.settings.checkpointEveryMs > 0 && t - this.#lastAt >= this.settings.checkpointEveryMs;
    const byChars = this.settings.checkpointEveryChars > 0 &&
      p.receivedChars - this.#lastChars >= this.settings.checkpointEveryChars;
    if (!byTime && !byChars) return;
    this.#lastAt = t;
    this.#lastChars = p.receivedChars;
    const message = p.snapshot();
    this.#inFlight = this.#write(message, p.attempt).finally(() => {
      this.#inFlight = null;
    });
  };

  async #write(message: Record<string, unknown>, attempt: number): Promise<void> {
    const started = this.now();
    try {
      const bytes = new TextEncoder().encode(JSON.stringify(message));
      const usage = (message.usage ?? {}) as Record<string, unknown>;
      const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
      const model = typeof message.model === "string" ? message.model : null;
      const record: ClaudeRecord = {
        rawSha256: await sha256Hex(bytes),
        stopReason: null,
        model,
        inputTokens: n(usage.input_tokens),
        outputTokens: n(usage.output_tokens),
        costUsd: estimateCostUsd(model ?? this.settings.model, {
          input_tokens: n(usage.input_tokens),
          output_tokens: n(usage.output_tokens),
          cache_creation_input_tokens: n(usage.cache_creation_input_tokens),
          cache_read_input_tokens: n(usage.cache_read_input_tokens),
        }),
        truncated: true,
        attempts: attempt,
      };
      const written = await this.repo.writeAhead({
        conversationId: this.conversationId,
        kind: "checkpoint",
        raw: bytes,
        record,
        leaseMs: this.settings.checkpointLeaseMs,
      });
      if (written) {
        this.stats.written++;
        this.stats.lastBytes = bytes.byteLength;
      }
    } catch (err) {
      this.stats.failed++;
      logger.warn("stream_checkpoint_failed", { conversation_id: this.conversationId, error: err as Error });
    } finally {
      this.stats.writeMs += this.now() - started;
    }
  }

  /** Resolves when no checkpoint is being written (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  /** No checkpoint after this; waits for the one in flight (the final write-ahead must come after it). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight) await this.#inFlight;
  }
}
