/**
 * Who is calling — one rule for every function (docs/SECURITY.md, "The auth rule"):
 *
 * - **The service** is recognised by key identity only: the bearer (or, for internal functions, the `apikey`)
 *   is byte-for-byte one of the project's service keys — the service_role key or an `sb_secret_` key (the
 *   gateway swaps the latter for the former) — compared in constant time. A JWT that merely says
 *   `role: service_role` is not the service, whatever its `sub` and however it is signed.
 * - **A user** presents a JWT (signature and expiry already checked by the platform: user-facing functions run
 *   with `verify_jwt = true`) whose claims carry all of: `exp` (a number, in the future: a token that never
 *   expires is refused), `sub` (a uuid), `role: authenticated`, and `aud` equal to (or, as an array,
 *   containing) the project's audience, `authenticated`.
 * - Internal functions (`verify_jwt = false`, called by pg_net and cron) accept the service only.
 * - **A reviewer** is a user whose token carries `app_metadata.role = "reviewer"`. Supabase Auth copies
 *   `app_metadata` (auth.users.raw_app_meta_data) into every access token it issues, and only the service can
 *   write it (SQL or the Admin API; a user's own `updateUser` changes `user_metadata` only), so the claim is as
 *   trustworthy as the token's signature (docs/SECURITY.md, "Reviewers").
 */
import { z } from "zod";
import { appError } from "../errors.ts";

export type Caller =
  | { kind: "user"; userId: string; role: string; reviewer: boolean }
  | { kind: "service" };

const claimsSchema = z.object({
  sub: z.string().optional(),
  role: z.string().optional(),
  exp: z.number().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  app_metadata: z.unknown().optional(),
});

/** The app_metadata role that lets a user see and act on every user's review items. */
export const REVIEWER_ROLE = "reviewer";

/** True when the claims' `app_metadata.role` is `reviewer` (anything else, or no app_metadata: false). */
export function isReviewerClaims(claims: JwtClaims): boolean {
  const meta = claims.app_metadata;
  return typeof meta === "object" && meta !== null &&
    (meta as Record<string, unknown>).role === REVIEWER_ROLE;
}

/** The audience Supabase Auth writes into user access tokens. */
export const USER_TOKEN_AUDIENCE = "authenticated";

export type JwtClaims = z.infer<typeof claimsSchema>;

/** The token of an `Authorization: Bearer …` header; null when the header is absent or not a bearer token. */
export function bearerToken(req: Request): string | null {
  const header = req.headers.get("authorization");
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "=");
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** Reads a JWT's payload without verifying it (the platform verified it). Null when it is not a JWT. */
export function decodeJwtClaims(token: string): JwtClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const parsed = claimsSchema.safeParse(JSON.parse(base64UrlDecode(parts[1])));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Constant-time string comparison, so a wrong key does not leak its matching prefix through timing. */
export function timingSafeEqual(a: string, b: string): boolean {
  const ea = new TextEncoder().encode(a);
  const eb = new TextEncoder().encode(b);
  let diff = ea.length ^ eb.length;
  for (let i = 0; i < Math.max(ea.length, eb.length); i++) diff |= (ea[i] ?? 0) ^ (eb[i] ?? 0);
  return diff === 0;
}

/** True when `token` is one of the accepted service keys (compared in constant time, so timing leaks nothing). */
export function isServiceKey(token: string | null, serviceKeys: readonly string[]): boolean {
  if (!token) return false;
  let match = false;
  for (const key of serviceKeys) if (key && timingSafeEqual(token, key)) match = true;
  return match;
}

/** For internal functions: the caller must present a service key (Authorization: Bearer or apikey). */
export function requireServiceKey(req: Request, serviceKeys: readonly string[]): void {
  const token = bearerToken(req);
  const apikey = req.headers.get("apikey");
  if (!token && !apikey) {
    throw appError("unauthorized", "Cannot authorize the request: missing authorization header");
  }
  if (!isServiceKey(token, serviceKeys) && !isServiceKey(apikey, serviceKeys)) {
    throw appError("forbidden", "Cannot authorize the request: this endpoint requires the service role key");
  }
}

/**
 * For user-facing functions: a user token that passes every clause of the rule, or the service key (the caller
 * acts for the system). Every refusal is 401 `unauthorized`, its message naming the clause.
 */
export function resolveCaller(
  req: Request,
  serviceKeys: readonly string[],
  now = Date.now(),
  audience: string = USER_TOKEN_AUDIENCE,
): Caller {
  const token = bearerToken(req);
  if (!token) throw appError("unauthorized", "Cannot authorize the request: missing authorization header");
  if (isServiceKey(token, serviceKeys)) return { kind: "service" };
  const claims = decodeJwtClaims(token);
  const refuse = (why: string) => appError("unauthorized", `Cannot authorize the request: ${why}`);
  if (!claims) throw refuse("the token is not a valid JWT");
  if (claims.role === "service_role") {
    throw refuse("the service role is recognised by its key only, not by a token's role claim");
  }
  if (claims.role !== "authenticated") {
    throw refuse("sign in as a user (anon tokens are not accepted)");
  }
  if (claims.exp === undefined) throw refuse("the token has no expiry (exp)");
  if (claims.exp * 1000 <= now) throw refuse("the token has expired");
  const sub = z.uuid().safeParse(claims.sub);
  if (!sub.success) throw refuse("the token names no user (sub must be a uuid)");
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(audience)) {
    throw refuse(`the token is not meant for this project (aud must be ${audience})`);
  }
  return { kind: "user", userId: sub.data, role: claims.role, reviewer: isReviewerClaims(claims) };
}
