/**
 * Reads the log-ahead back (shared/generate/log_ahead.ts): `raw_response_logged` lines, from whichever log they
 * come from, validated, grouped by conversation and sha256, put back in order and checked against the sha256
 * they were logged with. Pure: no I/O; `deno task recover` (cli/recover.ts) reads the logs and stores the bodies.
 *
 * A line is accepted in three shapes: the function's own JSON line; the local gateway's wrapper
 * (`{"event":"function_log","function":"generate-conversation","line":"…"}`, other functions ignored); a row of
 * the Management API's logs endpoint (`event_message` holding the function's line). Anything else is skipped.
 *
 * used by: local/recover.ts; docs/GENERATE.md "Raw first", docs/RUNBOOK.md "Recovering answers from the logs"
 */
import { z } from "zod";
import { LOG_AHEAD_EVENT, type LogAheadMeta } from "../generate/log_ahead.ts";
import { sha256Hex } from "../pipeline/sha256.ts";

/** The function whose log lines hold the log-ahead. */
export const LOG_AHEAD_FUNCTION = "generate-conversation";

const metaSchema = z.object({
  stop_reason: z.string().nullable(),
  model: z.string().nullable(),
  usage: z.object({ input_tokens: z.number().nullable(), output_tokens: z.number().nullable() }),
  truncated: z.boolean(),
});

const partSchema = z.object({
  event: z.literal(LOG_AHEAD_EVENT),
  conversation_id: z.uuid(),
  raw_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  part: z.number().int().min(0),
  parts: z.number().int().min(1),
  data: z.base64(),
  meta: metaSchema.optional(),
}).refine((p) => p.part < p.parts, { message: "part must be below parts" });

/** One validated `raw_response_logged` line. */
export type LoggedPart = z.infer<typeof partSchema>;

const gatewayLine = z.object({ event: z.literal("function_log"), function: z.string(), line: z.string() });
const managementRow = z.object({ event_message: z.string() });

/**
 * The logged part a line holds, or null when it holds none (another event, another function, not JSON, or a
 * part that does not validate). Takes a raw text line or an already parsed value.
 */
export function loggedPartOf(line: unknown): LoggedPart | null {
  let value = line;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  const wrapped = gatewayLine.safeParse(value);
  if (wrapped.success) {
    return wrapped.data.function === LOG_AHEAD_FUNCTION ? loggedPartOf(wrapped.data.line) : null;
  }
  const row = managementRow.safeParse(value);
  if (row.success && (value as { event?: unknown }).event === undefined) {
    return loggedPartOf(row.data.event_message);
  }
  const part = partSchema.safeParse(value);
  return part.success ? part.data : null;
}

/** What the parts of one (conversation, sha256) group came to. */
export type Assembly =
  | {
    kind: "complete";
    conversationId: string;
    rawSha256: string;
    raw: Uint8Array;
    meta: LogAheadMeta | null;
    parts: number;
  }
  | { kind: "incomplete"; conversationId: string; rawSha256: string; parts: number; missing: number[] }
  | {
    kind: "mismatched";
    conversationId: string;
    rawSha256: string;
    reason: "sha256" | "conflicting_parts" | "parts_count";
    actualSha256?: string;
  };

function unbase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Groups the parts by conversation and sha256 and reassembles each group: `complete` when every part is there
 * (duplicates of the same part are fine) and the bytes hash to the logged sha256; `incomplete` with the missing
 * part numbers; `mismatched` when the bytes hash to something else, one part number carries two different
 * slices, or the parts disagree on how many there are. Results are ordered by conversation id.
 */
export async function assembleBodies(parts: readonly LoggedPart[]): Promise<Assembly[]> {
  const groups = new Map<string, LoggedPart[]>();
  for (const p of parts) {
    const key = `${p.conversation_id}/${p.raw_sha256}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const out: Assembly[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const { conversation_id: conversationId, raw_sha256: rawSha256 } = group[0];
    const counts = new Set(group.map((p) => p.parts));
    if (counts.size > 1) {
      out.push({ kind: "mismatched", conversationId, rawSha256, reason: "parts_count" });
      continue;
    }
    const total = group[0].parts;
    const slices = new Map<number, LoggedPart>();
    let conflicting = false;
    for (const p of group) {
      const seen = slices.get(p.part);
      if (seen && seen.data !== p.data) conflicting = true;
      if (!seen || (p.meta && !seen.meta)) slices.set(p.part, p);
    }
    if (conflicting) {
      out.push({ kind: "mismatched", conversationId, rawSha256, reason: "conflicting_parts" });
      continue;
    }
    const missing = [...Array(total).keys()].filter((i) => !slices.has(i));
    if (missing.length > 0) {
      out.push({ kind: "incomplete", conversationId, rawSha256, parts: total, missing });
      continue;
    }
    const chunks = [...Array(total).keys()].map((i) => unbase64(slices.get(i)!.data));
    const raw = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      raw.set(c, at);
      at += c.byteLength;
    }
    const actual = await sha256Hex(raw);
    if (actual !== rawSha256) {
      out.push({ kind: "mismatched", conversationId, rawSha256, reason: "sha256", actualSha256: actual });
      continue;
    }
    out.push({
      kind: "complete",
      conversationId,
      rawSha256,
      raw,
      meta: slices.get(0)!.meta ?? null,
      parts: total,
    });
  }
  return out;
}
