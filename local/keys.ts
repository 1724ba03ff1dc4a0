/**
 * The local stack's keys: HS256 JWTs signed with a fixed development secret, exactly as `supabase start` does.
 *
 * With the secret and payloads below, `anonKey()` and `serviceRoleKey()` are byte-for-byte the well-known demo
 * keys `supabase start` prints, so snippets copied from Supabase docs work against this stack too. The new-style
 * `sb_publishable_…`/`sb_secret_…` keys are the CLI's fixed local values; the gateway translates them into the
 * matching JWT (like the CLI's Kong) before anything verifies a token.
 *
 * HS256 is implemented on WebCrypto (no jsr/jose here). Never use these keys outside a development machine.
 */
import { z } from "zod";

/** The CLI's local JWT secret (`[auth] jwt_secret` default). Public knowledge: it protects nothing. */
export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
/** The CLI's fixed local API keys (new format). */
export const LOCAL_PUBLISHABLE_KEY = "sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH";
export const LOCAL_SECRET_KEY = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz";
/** Expiry of the demo keys (2032-11-12), as in the CLI. */
const DEMO_KEY_EXP = 1983812996;

export type JwtPayload = Record<string, unknown>;

const encoder = new TextEncoder();

export function base64UrlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlDecode(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error("not base64url");
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

/** Signs a payload as a compact HS256 JWT (header `{"alg":"HS256","typ":"JWT"}`, keys in insertion order). */
export async function signJwt(payload: JwtPayload, secret: string = LOCAL_JWT_SECRET): Promise<string> {
  const header = base64UrlEncode(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = base64UrlEncode(encoder.encode(JSON.stringify(payload)));
  const signingInput = `${header}.${body}`;
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(signingInput));
  return `${signingInput}.${base64UrlEncode(new Uint8Array(sig))}`;
}

export type VerifyResult =
  | { ok: true; payload: JwtPayload }
  | {
    ok: false;
    reason: "malformed" | "algorithm" | "signature" | "expired" | "not_yet_valid";
    message: string;
  };

const headerSchema = z.object({ alg: z.string() });
const payloadSchema = z.record(z.string(), z.unknown());

/**
 * Verifies an HS256 JWT: structure, algorithm, signature, then `exp`/`nbf` (no clock tolerance). The messages
 * follow jose's wording, which is what storage-api and the functions runtime pass on to clients.
 */
export async function verifyJwt(
  token: string,
  secret: string = LOCAL_JWT_SECRET,
  nowMs: number = Date.now(),
): Promise<VerifyResult> {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed", message: "Invalid Compact JWS" };
  let header: unknown;
  let payload: unknown;
  let sig: Uint8Array;
  try {
    header = JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[0])));
  } catch {
    // jose's wording, which storage-api passes on for a garbage token.
    return { ok: false, reason: "malformed", message: "JWS Protected Header is invalid" };
  }
  try {
    payload = JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[1])));
    sig = base64UrlDecode(parts[2]);
  } catch {
    return { ok: false, reason: "malformed", message: "Invalid Compact JWS" };
  }
  const h = headerSchema.safeParse(header);
  if (!h.success) return { ok: false, reason: "malformed", message: "Invalid Compact JWS" };
  if (h.data.alg !== "HS256") {
    return {
      ok: false,
      reason: "algorithm",
      message: `"alg" (Algorithm) Header Parameter value not allowed`,
    };
  }
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    sig as Uint8Array<ArrayBuffer>,
    encoder.encode(`${parts[0]}.${parts[1]}`),
  );
  if (!valid) return { ok: false, reason: "signature", message: "signature verification failed" };
  const p = payloadSchema.safeParse(payload);
  if (!p.success) {
    return { ok: false, reason: "malformed", message: "JWT Claims Set must be a top-level JSON object" };
  }
  const nowSec = Math.floor(nowMs / 1000);
  const exp = p.data.exp;
  if (exp !== undefined) {
    if (typeof exp !== "number") {
      return { ok: false, reason: "malformed", message: `"exp" claim must be a number` };
    }
    if (exp <= nowSec) return { ok: false, reason: "expired", message: `"exp" claim timestamp check failed` };
  }
  const nbf = p.data.nbf;
  if (typeof nbf === "number" && nbf > nowSec) {
    return { ok: false, reason: "not_yet_valid", message: `"nbf" claim timestamp check failed` };
  }
  return { ok: true, payload: p.data };
}

/** Reads a JWT payload without verifying it (for logging and routing decisions already made elsewhere). */
export function decodeJwtPayload(token: string): JwtPayload | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const parsed = payloadSchema.safeParse(JSON.parse(new TextDecoder().decode(base64UrlDecode(parts[1]))));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function anonKey(secret: string = LOCAL_JWT_SECRET): Promise<string> {
  return signJwt({ iss: "supabase-demo", role: "anon", exp: DEMO_KEY_EXP }, secret);
}

export function serviceRoleKey(secret: string = LOCAL_JWT_SECRET): Promise<string> {
  return signJwt({ iss: "supabase-demo", role: "service_role", exp: DEMO_KEY_EXP }, secret);
}

export interface UserTokenOptions {
  /** Seconds until expiry (default 3600, like `[auth] jwt_expiry`); negative values mint an expired token. */
  expiresIn?: number;
  /** Sign with another secret (to test signature rejection). */
  secret?: string;
  /** Defaults to `authenticated`. */
  role?: string;
  email?: string;
  nowMs?: number;
}

/** A GoTrue-shaped access token for a user id. */
export function userToken(userId: string, opts: UserTokenOptions = {}): Promise<string> {
  const now = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const role = opts.role ?? "authenticated";
  return signJwt({
    aud: "authenticated",
    exp: now + (opts.expiresIn ?? 3600),
    iat: now,
    iss: "http://127.0.0.1/auth/v1",
    sub: userId,
    email: opts.email ?? `${userId}@local.test`,
    phone: "",
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    role,
    aal: "aal1",
    amr: [{ method: "password", timestamp: now }],
    session_id: crypto.randomUUID(),
    is_anonymous: false,
  }, opts.secret ?? LOCAL_JWT_SECRET);
}
