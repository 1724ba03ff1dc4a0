/**
 * The Message Batches results file as the collector handles it: JSONL, one `{"custom_id", "result"}` per line,
 * in no particular order. Pure code: cutting the file into stored parts at line ends, and reading each line
 * into a typed result without ever throwing (a line that cannot be read is reported, never skipped silently).
 *
 * used by: shared/batch/collect_batches.ts
 */

export type ResultLine =
  | { kind: "succeeded"; customId: string; message: Record<string, unknown> }
  | { kind: "errored"; customId: string; errorType: string; message: string }
  | { kind: "canceled"; customId: string }
  | { kind: "expired"; customId: string }
  | { kind: "unreadable"; line: number; reason: string };

const NL = 0x0a;

/**
 * Cuts the bytes into parts of at most `maxBytes`, each ending at a line end (a single longer line is a part of
 * its own). The parts concatenated are the input, byte for byte. Lines are counted per part.
 */
export function splitParts(bytes: Uint8Array, maxBytes: number): { bytes: Uint8Array; lines: number }[] {
  const parts: { bytes: Uint8Array; lines: number }[] = [];
  let start = 0;
  while (start < bytes.length) {
    let end = Math.min(bytes.length, start + maxBytes);
    if (end < bytes.length) {
      let cut = bytes.lastIndexOf(NL, end - 1);
      if (cut < start) cut = bytes.indexOf(NL, end);
      end = cut === -1 ? bytes.length : cut + 1;
    }
    const part = bytes.subarray(start, end);
    parts.push({ bytes: part, lines: countLines(part) });
    start = end;
  }
  return parts;
}

function countLines(part: Uint8Array): number {
  let lines = 0;
  for (let i = part.indexOf(NL); i !== -1; i = part.indexOf(NL, i + 1)) lines++;
  if (part.length > 0 && part[part.length - 1] !== NL) lines++;
  return lines;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return all;
}

/**
 * `splitParts` over a stream: the same parts, byte for byte (each at most `maxBytes`, ending at a line end; a
 * single longer line a part of its own), yielded as soon as each is complete. What it holds is one part plus
 * the chunk that completed it, never the whole stream. A stream that fails fails the iteration there.
 */
export async function* streamParts(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<{ bytes: Uint8Array; lines: number }> {
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    size += chunk.length;
    while (size > maxBytes) {
      const buf = concat(pending, size);
      let cut = buf.lastIndexOf(NL, maxBytes - 1);
      if (cut === -1) cut = buf.indexOf(NL, maxBytes);
      if (cut === -1) {
        pending = [buf];
        break; // one line longer than a part: wait for its end
      }
      const part = buf.slice(0, cut + 1);
      const rest = buf.subarray(cut + 1);
      pending = rest.length > 0 ? [rest] : [];
      size = rest.length;
      yield { bytes: part, lines: countLines(part) };
    }
  }
  if (size > 0) {
    const part = concat(pending, size);
    yield { bytes: part, lines: countLines(part) };
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads one line (1-based `lineNo` for reports); never throws. */
export function readResultLine(text: string, lineNo: number): ResultLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "unreadable", line: lineNo, reason: "not JSON" };
  }
  if (!isRecord(parsed) || typeof parsed.custom_id !== "string" || !isRecord(parsed.result)) {
    return { kind: "unreadable", line: lineNo, reason: "no custom_id or result" };
  }
  const customId = parsed.custom_id;
  const result = parsed.result;
  switch (result.type) {
    case "succeeded":
      if (!isRecord(result.message)) {
        return { kind: "unreadable", line: lineNo, reason: "succeeded without message" };
      }
      return { kind: "succeeded", customId, message: result.message };
    case "errored": {
      const envelope = isRecord(result.error) ? result.error : {};
      const inner = isRecord(envelope.error) ? envelope.error : envelope;
      return {
        kind: "errored",
        customId,
        errorType: typeof inner.type === "string" ? inner.type : "unknown_error",
        message: typeof inner.message === "string" ? inner.message : "",
      };
    }
    case "canceled":
      return { kind: "canceled", customId };
    case "expired":
      return { kind: "expired", customId };
    default:
      return {
        kind: "unreadable",
        line: lineNo,
        reason: `unknown result type ${String(result.type).slice(0, 40)}`,
      };
  }
}

/**
 * Every non-empty line of the file (or of one stored part: `firstLine` is the part's first line number in the
 * whole file, for reports), read in order.
 */
export function readResults(bytes: Uint8Array, firstLine = 1): ResultLine[] {
  const text = new TextDecoder().decode(bytes);
  const out: ResultLine[] = [];
  let lineNo = firstLine - 1;
  for (const line of text.split("\n")) {
    lineNo++;
    if (line.trim() === "") continue;
    out.push(readResultLine(line, lineNo));
  }
  return out;
}
