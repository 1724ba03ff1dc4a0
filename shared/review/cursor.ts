/**
 * Opaque, stable cursors for keyset pagination over `(created_at, conversation_id)`, newest first.
 *
 * Why keyset and not offset: the queue changes while someone pages through it (items are resolved, new
 * failures arrive); an offset would skip or repeat items, a keyset position does not. The position carries the
 * timestamp at microsecond precision as PostgreSQL prints it — a JS Date would drop the microseconds and the
 * next page would repeat or skip rows created within the same millisecond.
 *
 * A cursor also carries a fingerprint of the filters it was made for: reusing it with other filters is a 400,
 * not a silently wrong page.
 */
import { z } from "zod";
import { appError } from "../errors.ts";

export interface CursorPosition {
  /** `created_at` in UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (what the repository selects as the key). */
  readonly createdAt: string;
  readonly conversationId: string;
}

const CREATED_AT_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const payloadSchema = z.strictObject({
  v: z.literal(1),
  t: z.string().regex(CREATED_AT_KEY),
  id: z.uuid(),
  f: z.string().max(16),
});

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

/**
 * An opaque URL-safe token (base64url, no padding) for a keyset position and the fingerprint of the filters it
 * was made for; `decodeCursor` with the same fingerprint gives the position back, microseconds included.
 */
export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return toBase64Url(
    JSON.stringify({ v: 1, t: position.createdAt, id: position.conversationId, f: fingerprint }),
  );
}

/** 400 for anything that is not a cursor this code made for the same filters. */
export function decodeCursor(cursor: string, fingerprint: string): CursorPosition {
  let parsed: z.infer<typeof payloadSchema> | null = null;
  if (cursor.length <= 512 && /^[A-Za-z0-9_-]+$/.test(cursor)) {
    try {
      const result = payloadSchema.safeParse(JSON.parse(fromBase64Url(cursor)));
      if (result.success) parsed = result.data;
    } catch {
      parsed = null;
    }
  }
  if (!parsed) throw appError("bad_request", "Cannot read the cursor: pass next_cursor from a previous page");
  if (parsed.f !== fingerprint) {
    throw appError(
      "bad_request",
      "Cannot use the cursor: it was made for other filters (start again without it)",
    );
  }
  return { createdAt: parsed.t, conversationId: parsed.id.toLowerCase() };
}

/** FNV-1a (32 bit) over a canonical string: a short, stable tag, not a security boundary. */
export function fingerprint(parts: readonly (string | null | boolean)[]): string {
  const text = JSON.stringify(parts);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
