/**
 * User access tokens for people at a terminal: find an auth.users row, mint a GoTrue-shaped HS256 token for it
 * (local/keys.ts `userToken`). Used by `deno task token` (cli/token.ts) and by ./bin/start's last lines.
 */
import postgres from "postgres";
import { userToken } from "./keys.ts";

/** The user ./bin/start creates, and the one `deno task token` picks without --user or --email. */
export const DEFAULT_TOKEN_EMAIL = "demo@local.test";

/** "90s", "30m", "1h", "7d" (or a bare number of seconds) → seconds; null when not a positive duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "s" | "m" | "h" | "d"] ?? 1);
  return n > 0 && n <= 366 * 86_400 ? n : null;
}

/** The two columns of auth.users a token needs. */
export interface TokenUser {
  id: string;
  email: string | null;
}

/** Why no token could be made: no such user (exit 1 with a hint) or the database is unreachable. */
export class TokenError extends Error {
  constructor(readonly code: "user_not_found" | "db_unreachable", message: string) {
    super(message);
  }
}

/**
 * Looks the user up by id or email (case-insensitive; the oldest row when several share it). Throws a
 * `TokenError`: `user_not_found` with a hint on how to create the user, `db_unreachable` when the query fails.
 */
export async function findUser(
  dbUrl: string,
  who: { id?: string; email?: string },
): Promise<TokenUser> {
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    let rows;
    try {
      rows = who.id
        ? await sql`select id::text, email from auth.users where id = ${who.id}::uuid`
        : await sql`select id::text, email from auth.users where lower(email) = lower(${who.email ?? ""})
                     order by created_at nulls last limit 1`;
    } catch (err) {
      throw new TokenError(
        "db_unreachable",
        `cannot read auth.users: ${err instanceof Error ? err.message : err}`,
      );
    }
    const row = rows[0];
    if (!row) {
      const what = who.id ? `id ${who.id}` : `email ${who.email}`;
      const hint = who.email === DEFAULT_TOKEN_EMAIL
        ? "run ./bin/start (it creates the demo user)"
        : `create it (deno task seed:remote --email ${who.email ?? "E"}, or Dashboard → Authentication)`;
      throw new TokenError("user_not_found", `no auth.users row has ${what}: ${hint}`);
    }
    return { id: String(row.id), email: row.email === null ? null : String(row.email) };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** A token for the user, valid `expiresIn` seconds. */
export function mintToken(user: TokenUser, expiresIn: number, secret: string): Promise<string> {
  return userToken(user.id, { expiresIn, secret, email: user.email ?? undefined });
}

/** The lines ./bin/start prints for its user (token valid 1 hour); throws a `TokenError` like `findUser`. */
export async function startTokenLines(dbUrl: string, secret: string, userId: string): Promise<string[]> {
  const user = await findUser(dbUrl, { id: userId });
  const token = await mintToken(user, 3600, secret);
  return [
    `      User token: ${token}`,
    `                  (${
      user.email ?? user.id
    }, valid 1 h; another user or lifetime: deno task token --help)`,
  ];
}
