/**
 * The log-ahead: a third durable store for the answer while the write-ahead has not committed yet. When the
 * write-ahead statement is slower than `logAheadAfterMs` (shared/generate/write_ahead.ts), the verbatim body goes
 * to the function log as `raw_response_logged` lines: `conversation_id`, `raw_sha256` (of the whole body),
 * `part` (0-based), `parts`, `data` (base64 of a slice of the bytes), and on part 0 the metadata the
 * write-ahead would have recorded (`stop_reason`, `model`, `usage`, `truncated`). `deno task recover`
 * (shared/recover/assemble.ts) reassembles the lines and uploads the body of a row closed as `worker_lost`.
 *
 * Best effort: the hosted platform keeps a log message up to 10,000 characters and about 100 log events per 10 s
 * per function, so each whole JSON line is kept under 9,000 characters and a burst of large answers logged at
 * once may be dropped by the platform's rate limit. The write-ahead and the upload still run as before.
 *
 * used by: shared/generate/write_ahead.ts; read back by shared/recover/assemble.ts; docs/GENERATE.md "Raw first"
 */
import { logger } from "../log.ts";

/** The log event the parts are written as (and the one `deno task recover` reads). */
export const LOG_AHEAD_EVENT = "raw_response_logged";

/** Each whole JSON log line stays under this many characters (the platform keeps up to 10,000). */
export const LOG_AHEAD_MAX_LINE_CHARS = 9000;

/** The logger's own fields around ours (`ts`, `level`, `event`), with room to spare. */
const ENVELOPE_CHARS = 120;

/** What the write-ahead would have recorded on the row, logged on part 0. */
export interface LogAheadMeta {
  stop_reason: string | null;
  model: string | null;
  usage: { input_tokens: number | null; output_tokens: number | null };
  truncated: boolean;
}

/** The fields of one `raw_response_logged` line (the logger adds `ts`, `level` and `event`). */
export interface LogAheadPart {
  conversation_id: string;
  raw_sha256: string;
  part: number;
  parts: number;
  data: string;
  meta?: LogAheadMeta;
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/**
 * Splits the body into log parts whose whole JSON line (with the logger's envelope) stays under
 * `maxLineChars`: every part carries the same slice size, sized from part 0's line (the largest: it carries the
 * metadata). An empty body is one part with empty data. A model name longer than 200 characters is cut.
 */
export function logAheadParts(
  input: { conversationId: string; rawSha256: string; raw: Uint8Array; meta: LogAheadMeta },
  maxLineChars: number = LOG_AHEAD_MAX_LINE_CHARS,
): LogAheadPart[] {
  const meta: LogAheadMeta = { ...input.meta, model: input.meta.model?.slice(0, 200) ?? null };
  const probe: LogAheadPart = {
    conversation_id: input.conversationId,
    raw_sha256: input.rawSha256,
    part: 999_999,
    parts: 999_999,
    data: "",
    meta,
  };
  const budget = maxLineChars - ENVELOPE_CHARS - JSON.stringify(probe).length;
  const bytesPerPart = Math.floor(budget / 4) * 3;
  if (bytesPerPart <= 0) throw new RangeError(`logAheadParts: ${maxLineChars} characters leave no room`);
  const parts = Math.max(1, Math.ceil(input.raw.byteLength / bytesPerPart));
  const out: LogAheadPart[] = [];
  for (let i = 0; i < parts; i++) {
    const part: LogAheadPart = {
      conversation_id: input.conversationId,
      raw_sha256: input.rawSha256,
      part: i,
      parts,
      data: base64(input.raw.subarray(i * bytesPerPart, (i + 1) * bytesPerPart)),
    };
    if (i === 0) part.meta = meta;
    out.push(part);
  }
  return out;
}

/**
 * Writes the body to the function log as `raw_response_logged` lines, synchronously (the logger's sink is a
 * console write): when it returns, the lines have left the worker. Returns how many parts were written.
 */
export function logAhead(
  input: { conversationId: string; rawSha256: string; raw: Uint8Array; meta: LogAheadMeta },
): number {
  const parts = logAheadParts(input);
  for (const p of parts) logger.info(LOG_AHEAD_EVENT, { ...p });
  return parts.length;
}
