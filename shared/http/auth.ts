/**
 * Who is calling. User-facing functions run with `verify_jwt = true`, so the platform has already checked
 * the token's signature and expiry before our code runs; here we read its claims (zod) and decide. Internal
 * functions (`verify_jwt = false`, called by pg_net and cron) accept only the project's secret key, compared
 * in constant time — Supabase's recommended pattern for service-to-service calls.
 */
import { z } from "zod";
import { appError } from "../errors.ts";

export type Caller =
  | { kind: "user"; userId: string; role: string }
  | { kind: "service" };

const claimsSchema = z.object({
  sub: z.string().optional(),
  role: z.string().optional(),
  exp: z.number().optional(),
});

export type JwtClaims = z.infer<typeof claimsSchema>;

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
 * For user-facing functions: a user JWT (its `sub` is the user), or the service key (the caller acts for the
 * system). Anon tokens and tokens without a `sub` are refused.
 */
export function resolveCaller(req: Request, serviceKeys: readonly string[], now = Date.now()): Caller {
  const token = bearerToken(req);
  if (!token) throw appError("unauthorized", "Cannot authorize the request: missing authorization header");
  if (isServiceKey(token, serviceKeys)) return { kind: "service" };
  const claims = decodeJwtClaims(token);
  if (!claims) throw appError("unauthorized", "Cannot authorize the request: the token is not a valid JWT");
  if (claims.exp !== undefined && claims.exp * 1000 <= now) {
    throw appError("unauthorized", "Cannot authorize the request: the token has expired");
  }
  if (claims.role === "service_role") return { kind: "service" };
  const sub = z.uuid().safeParse(claims.sub);
  if (claims.role !== "authenticated" || !sub.success) {
    throw appError(
      "unauthorized",
      "Cannot authorize the request: sign in as a user (anon tokens are not accepted)",
    );
  }
  return { kind: "user", userId: sub.data, role: claims.role };
}
