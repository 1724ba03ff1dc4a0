/**
 * What a client may send to `generate-conversation`, checked at the boundary: the JSON body (strict: unknown
 * fields are refused), the `Idempotency-Key` header, and who the conversation is generated for (the JWT's `sub`,
 * or `x-user-id` when the caller holds the service-role key — the checklist's smoke-test form).
 *
 * used by: shared/generate/handler.ts; next: shared/generate/generate.ts
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import type { Caller } from "../http/auth.ts";
import { sha256Hex } from "../pipeline/sha256.ts";

export const TIERS = ["template", "scenario", "edge_case"] as const;
export type Tier = (typeof TIERS)[number];

/** Bounds for `max_tokens`: below 256 no conversation fits; 64000 is Sonnet 4.5's output ceiling. */
export const MAX_TOKENS_MIN = 256;
export const MAX_TOKENS_MAX = 64000;

/** Request bodies are a few hundred bytes; 16 KiB leaves room and stops abuse early (413 beyond). */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Ids are any 8-4-4-4-12 hex string, like PostgreSQL's uuid type (z.uuid() would refuse the fixed seed ids that
 * carry no RFC version digit), lower-cased so the request hash does not depend on the client's casing.
 */
const id = () =>
  z.string().regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    "must be a uuid",
  ).transform((s) => s.toLowerCase());

/** Optional fields accept null as "absent": many JSON encoders write None/undefined that way. */
export const GenerateRequestSchema = z.strictObject({
  persona_id: id(),
  emotional_arc_id: id(),
  training_topic_id: id(),
  tier: z.enum(TIERS),
  temperature: z.number().min(0).max(1).nullish().transform((v) => v ?? undefined),
  max_tokens: z.int().min(MAX_TOKENS_MIN).max(MAX_TOKENS_MAX).nullish().transform((v) => v ?? undefined),
  template_id: id().nullish().transform((v) => v ?? undefined),
});

export type GenerateRequest = z.infer<typeof GenerateRequestSchema>;

/** Printable ASCII, 1..255 characters, no leading or trailing space (proxies trim header values). */
const IDEMPOTENCY_KEY = /^[\x21-\x7E](?:[\x20-\x7E]{0,253}[\x21-\x7E])?$/;

/**
 * The Idempotency-Key header, or null when absent; a key that is not 1 to 255 printable ASCII characters is a
 * 400 (never silently ignored: the client believes its retry is safe).
 */
export function readIdempotencyKey(req: Request): string | null {
  const raw = req.headers.get("idempotency-key");
  if (raw === null) return null;
  if (!IDEMPOTENCY_KEY.test(raw)) {
    throw appError(
      "bad_request",
      "Cannot use the Idempotency-Key header: it must be 1 to 255 printable ASCII characters",
    );
  }
  return raw;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whom the conversation belongs to. A user token means that user, and `x-user-id` is refused (a user cannot act
 * for someone else). The service key must name an existing user with `x-user-id`; the existence check is the
 * caller's (it needs the database), so this returns `mustExist: true` for that case.
 */
export function resolveActingUser(
  req: Request,
  caller: Caller,
): { userId: string; mustExist: boolean } {
  const header = req.headers.get("x-user-id");
  if (caller.kind === "user") {
    if (header !== null) {
      throw appError(
        "forbidden",
        "Cannot act for another user: x-user-id is accepted only with the service role key",
      );
    }
    return { userId: caller.userId.toLowerCase(), mustExist: false };
  }
  if (header === null || header.trim() === "") {
    throw appError(
      "bad_request",
      "Cannot generate with the service role key alone: name the user in the x-user-id header",
    );
  }
  const userId = header.trim().toLowerCase();
  if (!UUID.test(userId)) {
    throw appError("bad_request", "Cannot use the x-user-id header: it must be a user's uuid");
  }
  return { userId, mustExist: true };
}

/**
 * The canonical form of a validated request (sorted keys, absent optionals left out), so that the same request
 * sent twice with different key order, casing of ids or `null` for absent fields hashes the same.
 */
export function canonicalRequest(request: GenerateRequest): string {
  const entries = Object.entries(request)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

/**
 * The sha256 of the canonical request body: the same for the same request whatever its key order, id casing or
 * null optionals, so an Idempotency-Key reused with another body is told apart from a retry.
 */
export async function requestHash(request: GenerateRequest): Promise<string> {
  return await sha256Hex(new TextEncoder().encode(canonicalRequest(request)));
}
