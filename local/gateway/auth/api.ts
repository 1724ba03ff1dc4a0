/**
 * `/auth/v1`: the subset of Supabase Auth (GoTrue) that `@supabase/supabase-js` needs to sign a person in with a
 * password, so the review console (console/) runs unchanged against this stack and a hosted project:
 *
 *   POST /token?grant_type=password        {email, password}      → a session (access + refresh token, user)
 *   POST /token?grant_type=refresh_token   {refresh_token}        → a new session; the old refresh token is spent
 *   GET  /user                             Bearer <access token>  → the user
 *   POST /logout?scope=local|global|others Bearer <access token>  → 204; the sessions' refresh tokens die
 *   POST /signup                           {email, password, data} → a session (confirmations are off locally,
 *                                                                    as `[auth.email] enable_confirmations`)
 *
 * Users live in auth.users with bcrypt hashes made by pgcrypto (`crypt(…, gen_salt('bf', 10))`, GoTrue's cost);
 * sessions and refresh tokens in auth.sessions / auth.refresh_tokens (local/bootstrap/platform.sql). Access
 * tokens are HS256 JWTs with GoTrue's claims, `app_metadata` included: that is where the reviewer role lives,
 * and only the service (SQL, the Admin API) writes it. Errors have GoTrue's two shapes: `{code, message}` when
 * the client sends `X-Supabase-Api-Version: 2024-01-01` (supabase-js does), else `{code: <status>, error_code,
 * msg}`. Not provided: magic links, OTP, OAuth, MFA, the Admin API (docs/LOCAL_STACK.md).
 */
import type postgres from "postgres";
import { z } from "zod";
import { base64UrlEncode, signJwt, verifyJwt } from "../../keys.ts";

export interface AuthDeps {
  sql: postgres.Sql;
  jwtSecret: string;
  /** What clients use as SUPABASE_URL; the tokens' issuer is `<apiUrl>/auth/v1`, as GoTrue's. */
  apiUrl: string;
  /** Seconds an access token lives (`[auth] jwt_expiry`, 3600). */
  jwtExpiry: number;
  now?: () => number;
}

const API_VERSION = "2024-01-01";
const MIN_PASSWORD_LENGTH = 6;

class AuthError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const passwordGrant = z.object({ email: z.string().min(1).max(255), password: z.string().min(1).max(72) });
const refreshGrant = z.object({ refresh_token: z.string().min(1).max(255) });
const signupBody = z.object({
  email: z.email().max(255),
  password: z.string().max(72),
  data: z.record(z.string(), z.unknown()).optional(),
});

interface UserRow {
  id: string;
  aud: string | null;
  role: string | null;
  email: string | null;
  email_confirmed_at: Date | null;
  last_sign_in_at: Date | null;
  raw_app_meta_data: Record<string, unknown> | null;
  raw_user_meta_data: Record<string, unknown> | null;
  is_anonymous: boolean;
  created_at: Date | null;
  updated_at: Date | null;
}

const USER_COLUMNS = `id::text, aud, role, email, email_confirmed_at, last_sign_in_at, raw_app_meta_data,
  raw_user_meta_data, is_anonymous, created_at, updated_at`;

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

/** The user object GoTrue answers with (`/user`, and `user` in a session). */
export function userJson(u: UserRow): Record<string, unknown> {
  return {
    id: u.id,
    aud: u.aud ?? "authenticated",
    role: u.role ?? "authenticated",
    email: u.email ?? "",
    email_confirmed_at: iso(u.email_confirmed_at),
    phone: "",
    confirmed_at: iso(u.email_confirmed_at),
    last_sign_in_at: iso(u.last_sign_in_at),
    app_metadata: u.raw_app_meta_data ?? {},
    user_metadata: u.raw_user_meta_data ?? {},
    identities: [],
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
    is_anonymous: u.is_anonymous,
  };
}

function newRefreshToken(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(16)));
}

function errorResponse(req: Request, err: AuthError): Response {
  const versioned = req.headers.get("x-supabase-api-version") !== null;
  const body = versioned
    ? { code: err.code, message: err.message }
    : { code: err.status, error_code: err.code, msg: err.message };
  return Response.json(body, { status: err.status, headers: { "x-supabase-api-version": API_VERSION } });
}

async function readBody<T>(req: Request, schema: z.ZodType<T>, what: string): Promise<T> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    throw new AuthError(400, "bad_json", `Could not read ${what}: the body must be JSON`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AuthError(
      400,
      "validation_failed",
      `Could not read ${what}: ${parsed.error.issues[0].message}`,
    );
  }
  return parsed.data;
}

/** The Auth subset as a handler of the path after `/auth/v1/`. */
export function createAuthApi(deps: AuthDeps): (req: Request, rest: string) => Promise<Response> {
  const sql = deps.sql;
  const nowMs = deps.now ?? (() => Date.now());

  async function issueSession(user: UserRow, sessionId: string, refreshToken: string): Promise<Response> {
    const now = Math.floor(nowMs() / 1000);
    const accessToken = await signJwt({
      aud: user.aud ?? "authenticated",
      exp: now + deps.jwtExpiry,
      iat: now,
      iss: `${deps.apiUrl}/auth/v1`,
      sub: user.id,
      email: user.email ?? "",
      phone: "",
      app_metadata: user.raw_app_meta_data ?? {},
      user_metadata: user.raw_user_meta_data ?? {},
      role: user.role ?? "authenticated",
      aal: "aal1",
      amr: [{ method: "password", timestamp: now }],
      session_id: sessionId,
      is_anonymous: user.is_anonymous,
    }, deps.jwtSecret);
    return Response.json({
      access_token: accessToken,
      token_type: "bearer",
      expires_in: deps.jwtExpiry,
      expires_at: now + deps.jwtExpiry,
      refresh_token: refreshToken,
      user: userJson(user),
    }, { headers: { "x-supabase-api-version": API_VERSION } });
  }

  async function startSession(userId: string): Promise<Response> {
    const sessionId = crypto.randomUUID();
    const token = newRefreshToken();
    const rows = await sql.begin(async (tx) => {
      await tx`insert into auth.sessions (id, user_id) values (${sessionId}, ${userId})`;
      await tx`insert into auth.refresh_tokens (token, user_id, revoked, session_id)
               values (${token}, ${userId}, false, ${sessionId})`;
      return await tx.unsafe<UserRow[]>(
        `update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1 returning ${USER_COLUMNS}`,
        [userId],
      );
    });
    return await issueSession(rows[0], sessionId, token);
  }

  async function passwordSignIn(req: Request): Promise<Response> {
    const body = await readBody(req, passwordGrant, "password grant params");
    const rows = await sql<{ id: string }[]>`
      select id::text from auth.users
       where lower(email) = lower(${body.email}) and encrypted_password is not null
         and encrypted_password = extensions.crypt(${body.password}, encrypted_password)
       order by created_at nulls last limit 1`;
    if (rows.length === 0) throw new AuthError(400, "invalid_credentials", "Invalid login credentials");
    return await startSession(rows[0].id);
  }

  async function refresh(req: Request): Promise<Response> {
    const body = await readBody(req, refreshGrant, "refresh token grant params");
    const next = newRefreshToken();
    const result = await sql.begin(async (tx) => {
      const found = await tx<{ user_id: string; session_id: string; revoked: boolean }[]>`
        select user_id, session_id::text, coalesce(revoked, false) as revoked from auth.refresh_tokens
         where token = ${body.refresh_token} for update`;
      const row = found[0];
      if (!row) return "not_found" as const;
      if (row.revoked) return "used" as const;
      await tx`update auth.refresh_tokens set revoked = true, updated_at = now() where token = ${body.refresh_token}`;
      await tx`insert into auth.refresh_tokens (token, user_id, revoked, parent, session_id)
               values (${next}, ${row.user_id}, false, ${body.refresh_token}, ${row.session_id})`;
      await tx`update auth.sessions set refreshed_at = now(), updated_at = now() where id = ${row.session_id}`;
      const users = await tx.unsafe<UserRow[]>(`select ${USER_COLUMNS} from auth.users where id = $1`, [
        row.user_id,
      ]);
      return { user: users[0], sessionId: row.session_id };
    });
    if (result === "not_found") {
      throw new AuthError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
    }
    if (result === "used") {
      throw new AuthError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used");
    }
    if (!result.user) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    return await issueSession(result.user, result.sessionId, next);
  }

  /** The caller of /user and /logout: a valid access token whose session and user still exist. */
  async function authenticated(req: Request): Promise<{ user: UserRow; sessionId: string | null }> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get("authorization") ?? "");
    if (!m) throw new AuthError(401, "no_authorization", "This endpoint requires a Bearer token");
    const verified = await verifyJwt(m[1], deps.jwtSecret, nowMs());
    if (!verified.ok) {
      throw new AuthError(
        403,
        "bad_jwt",
        `invalid JWT: unable to parse or verify signature, ${verified.message}`,
      );
    }
    const claims = verified.payload;
    const sub = z.uuid().safeParse(claims.sub);
    if (!sub.success) throw new AuthError(403, "bad_jwt", "invalid claim: missing sub claim");
    const sessionId = typeof claims.session_id === "string" ? claims.session_id : null;
    if (sessionId !== null) {
      const s = await sql`select 1 from auth.sessions where id::text = ${sessionId}`;
      if (s.length === 0) {
        throw new AuthError(403, "session_not_found", "Session from session_id claim in JWT does not exist");
      }
    }
    const users = await sql.unsafe<UserRow[]>(`select ${USER_COLUMNS} from auth.users where id = $1`, [
      sub.data,
    ]);
    if (!users[0]) throw new AuthError(403, "user_not_found", "User from sub claim in JWT does not exist");
    return { user: users[0], sessionId };
  }

  async function logout(req: Request, scope: string): Promise<Response> {
    if (!["local", "global", "others"].includes(scope)) {
      throw new AuthError(400, "validation_failed", "Unsupported logout scope");
    }
    const { user, sessionId } = await authenticated(req);
    if (scope === "global" || sessionId === null) {
      await sql`delete from auth.sessions where user_id = ${user.id}`;
    } else if (scope === "local") {
      await sql`delete from auth.sessions where id::text = ${sessionId}`;
    } else {
      await sql`delete from auth.sessions where user_id = ${user.id} and id::text <> ${sessionId}`;
    }
    return new Response(null, { status: 204 });
  }

  async function signup(req: Request): Promise<Response> {
    const body = await readBody(req, signupBody, "sign-up params");
    if (body.password.length < MIN_PASSWORD_LENGTH) {
      throw new AuthError(
        422,
        "weak_password",
        `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`,
      );
    }
    const id = crypto.randomUUID();
    const inserted = await sql`
      insert into auth.users (id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data,
                              raw_user_meta_data)
      select ${id}, 'authenticated', 'authenticated', lower(${body.email}),
             extensions.crypt(${body.password}, extensions.gen_salt('bf', 10)), now(),
             ${JSON.stringify({ provider: "email", providers: ["email"] })}::text::jsonb, ${
      JSON.stringify(body.data ?? {})
    }::text::jsonb
       where not exists (select 1 from auth.users where lower(email) = lower(${body.email}))
      returning id`;
    if (inserted.length === 0) throw new AuthError(422, "user_already_exists", "User already registered");
    return await startSession(id);
  }

  return async (req, rest) => {
    const url = new URL(req.url);
    try {
      const path = rest.replace(/\/+$/, "");
      if (path === "token" && req.method === "POST") {
        const grant = url.searchParams.get("grant_type");
        if (grant === "password") return await passwordSignIn(req);
        if (grant === "refresh_token") return await refresh(req);
        throw new AuthError(400, "validation_failed", "unsupported_grant_type");
      }
      if (path === "user" && req.method === "GET") {
        const { user } = await authenticated(req);
        return Response.json(userJson(user), { headers: { "x-supabase-api-version": API_VERSION } });
      }
      if (path === "logout" && req.method === "POST") {
        return await logout(req, url.searchParams.get("scope") ?? "global");
      }
      if (path === "signup" && req.method === "POST") return await signup(req);
      if (path === "health" && req.method === "GET") {
        return Response.json({ version: "local", name: "GoTrue (local subset)" });
      }
      throw new AuthError(
        404,
        "not_found",
        `The local stack's Auth subset does not provide ${req.method} /${path}: see docs/LOCAL_STACK.md`,
      );
    } catch (err) {
      if (err instanceof AuthError) return errorResponse(req, err);
      throw err;
    }
  };
}
