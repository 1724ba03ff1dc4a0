/**
 * The write-ahead, the first thing after Claude's last byte: one statement puts the verbatim bytes in
 * raw_response_spool (kind `write_ahead`) and sha256, stop_reason, model, usage, cost and truncated on the row
 * (still `generating`), before the upload — the storage trigger may start the parse at once, and the parse
 * checks this sha256. Until it commits the answer exists only in this worker's memory; the time from the last
 * stream event to the commit is logged as `memory_window_ms` (`raw_written_ahead`) and timed as `write_ahead`.
 *
 * When the database refuses it (a restart, a failover) it is tried again every 250 ms beside the upload, so the
 * answer becomes durable as soon as either store answers; the log-ahead logs it at once then (unless off).
 * Storage itself needs the database, so during a PostgreSQL restart both come back together, and the first to
 * commit ends the in-memory window.
 *
 * The log-ahead (shared/generate/log_ahead.ts) bounds that window when the statement is slow: if it has not
 * committed `logAheadAfterMs` after the last byte (default 3 ms; at once when other generations share this
 * worker's event loop, where the timer would fire late; 0 logs every answer; -1, or `off` in the
 * environment, never logs), the body goes to the function log as `raw_response_logged` lines, synchronously,
 * and `deno task recover` can store it from there should the worker then die. `raw_written_ahead` then carries
 * `log_ahead_parts` and `log_ahead_ms` (last byte → the log written), and `durable_window_ms` is the smaller of
 * that and `memory_window_ms`: the time the answer existed only in memory.
 *
 * used by: shared/generate/persist_raw.ts; docs/GENERATE.md "Raw first"
 */
import type { ConversationRepo, WriteAheadInput } from "./conversation_repo.ts";
import type { CheckpointStats } from "./checkpoint.ts";
import { logger } from "../log.ts";
import { logAhead } from "./log_ahead.ts";
import { workerLoad } from "./worker_load.ts";
import type { Clock } from "../pipeline/clock.ts";
import type { PhaseTimer } from "../http/server_timing.ts";

export interface WriteAheadDeps {
  repo: ConversationRepo;
  clock: Clock;
  /** `logAheadAfterMs`: see the header (-1: off, 0: always, > 0: when the statement is slower than that). */
  config: { writeAheadLeaseMs: number; logAheadAfterMs: number };
  /** This worker's generations in flight (default: the isolate's counter, shared/generate/worker_load.ts). */
  load?: { readonly generations: number };
}

/** Where the write-ahead stands while the upload runs, read when the upload has ended. */
export interface WriteAhead {
  /** The first try threw: the database was unavailable right after Claude answered. */
  readonly refused: boolean;
  /** The bytes are durable in the write-ahead copy now (the first try or a later one committed). */
  readonly written: boolean;
  /** Ends the retries beside the upload; `settled` resolves once an attempt in flight has ended. */
  stop(): void;
  readonly settled: Promise<void>;
}

/**
 * Writes the answer ahead of the upload and logs the in-memory window. Never throws: a refused write-ahead is
 * logged and retried beside the upload (up to half its lease) until `stop()`; a row that is no longer
 * `generating` is logged and left alone (nothing written).
 */
export async function writeAhead(
  deps: WriteAheadDeps,
  input: WriteAheadInput,
  timer: PhaseTimer,
  window: { lastByteAt: number; checkpoints: CheckpointStats; checkpointsClosed: Promise<void> },
): Promise<WriteAhead> {
  const { repo, clock } = deps;
  const conversationId = input.conversationId;
  const windowMs = () => Math.round((clock.monotonic() - window.lastByteAt) * 100) / 100;
  let written = false;
  let refused = false;
  // The log-ahead: written once, unless the first write-ahead attempt committed (or found the row moved on)
  // first. A refused first attempt logs at once: the retries may take as long as a database restart.
  let firstEnded = false;
  let logged: { parts: number; ms: number } | null = null;
  const logNow = () => {
    if ((firstEnded && !refused) || logged !== null) return;
    try {
      const parts = logAhead({
        conversationId,
        rawSha256: input.record.rawSha256,
        raw: input.raw,
        meta: {
          stop_reason: input.record.stopReason,
          model: input.record.model,
          usage: { input_tokens: input.record.inputTokens, output_tokens: input.record.outputTokens },
          truncated: input.record.truncated,
        },
      });
      logged = { parts, ms: windowMs() };
    } catch (err) {
      // The log is a best-effort store: the write-ahead and the upload go on whatever happens here.
      logger.warn("raw_log_ahead_failed", { conversation_id: conversationId, error: err as Error });
    }
  };
  // The log-ahead's deadline counts from the last byte, not from the statement's start: whatever delays the
  // statement (a checkpoint still landing, a busy event loop) is inside the window it bounds. Already due, or
  // other generations sharing this event loop (where a timer fires late): now, synchronously.
  const after = deps.config.logAheadAfterMs;
  if (after >= 0) {
    const due = window.lastByteAt + after - clock.monotonic();
    if (due <= 0 || (deps.load ?? workerLoad).generations > 1) logNow();
    else void clock.sleep(due).then(logNow);
  }
  try {
    // A checkpoint still landing must not overwrite the answer's copy (shared/generate/call_claude.ts).
    await window.checkpointsClosed;
    written = await timer.time("write_ahead", () => repo.writeAhead(input)).finally(() => {
      firstEnded = true;
    });
    if (!written) {
      logger.warn("claude_result_unrecorded", { conversation_id: conversationId, reason: "not generating" });
    }
  } catch (err) {
    refused = true;
    logger.error("claude_result_unrecorded", { conversation_id: conversationId, error: err as Error });
    if (after >= 0) logNow();
  }
  const memoryWindowMs = windowMs();
  const log = logged as { parts: number; ms: number } | null;
  logger.info("raw_written_ahead", {
    conversation_id: conversationId,
    written,
    raw_size: input.raw.byteLength,
    // From the last stream event to the commit (or the failure) of the write-ahead: the in-memory window.
    memory_window_ms: memoryWindowMs,
    ...(log
      ? {
        log_ahead_parts: log.parts,
        log_ahead_ms: log.ms,
        durable_window_ms: written ? Math.min(log.ms, memoryWindowMs) : log.ms,
      }
      : written
      ? { durable_window_ms: memoryWindowMs }
      : {}),
    checkpoints: window.checkpoints.written,
    checkpoint_failures: window.checkpoints.failed,
    checkpoint_write_ms: Math.round(window.checkpoints.writeMs * 10) / 10,
  });

  let stopped = false;
  const retry = async (): Promise<void> => {
    const until = clock.monotonic() + deps.config.writeAheadLeaseMs / 2;
    while (!stopped && clock.monotonic() < until) {
      await clock.sleep(250);
      if (stopped) return;
      try {
        written = await repo.writeAhead(input);
        logger.info("raw_written_ahead", {
          conversation_id: conversationId,
          written,
          late: true,
          raw_size: input.raw.byteLength,
          memory_window_ms: windowMs(),
        });
        return;
      } catch {
        // still unavailable: try again
      }
    }
  };
  const settled = refused ? retry() : Promise.resolve();
  return {
    refused,
    get written() {
      return written;
    },
    stop() {
      stopped = true;
    },
    settled,
  };
}
