/**
 * deno task token [--user UUID | --email E] [--expires 1h] [--db-url URL] [--jwt-secret S]
 *
 * Prints a user access token (a GoTrue-shaped HS256 JWT: role authenticated, sub = the user's id) for calling
 * generate-conversation and review-queue as that user:
 *
 *   USER_ACCESS_TOKEN=$(deno task token --email demo@local.test)
 *
 *   --user UUID       an auth.users row, by id
 *   --email E         an auth.users row, by email (default: demo@local.test, the user ./bin/start creates)
 *   --expires D       lifetime: 90s, 30m, 1h (default), 7d
 *   --db-url URL      where to look the user up (default: DATABASE_URL, else the local stack's database)
 *   --jwt-secret S    the signing secret (default: SUPABASE_JWT_SECRET, else the local stack's)
 *
 * The token goes to stdout alone; who it is for and when it expires go to stderr. The user must exist (the
 * token would otherwise name nobody; generate-conversation answers 404 user_not_found). On a hosted project
 * this works only with the project's legacy JWT secret (Settings → API → JWT secret); with asymmetric signing
 * keys, sign the user in with supabase-js (`auth.signInWithPassword`) and use the session's access_token.
 * Exit status: 0 printed; 1 no such user or the database cannot be reached; 2 bad arguments.
 */
import postgres from "postgres";
import { join } from "node:path";
import { z } from "zod";
import { LOCAL_JWT_SECRET, userToken } from "../local/keys.ts";
import { databaseUrl, stateDir } from "../local/paths.ts";
import { parseCli } from "./_cli.ts";

export const DEFAULT_TOKEN_EMAIL = "demo@local.test";

/** "90s", "30m", "1h", "7d" (or a bare number of seconds) → seconds; null when not a positive duration. */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as "s" | "m" | "h" | "d"] ?? 1);
  return n > 0 && n <= 366 * 86_400 ? n : null;
}

export interface TokenUser {
  id: string;
  email: string | null;
}

export class TokenError extends Error {
  constructor(readonly code: "user_not_found" | "db_unreachable", message: string) {
    super(message);
  }
}

/** Looks the user up by id or email. */
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

function localStack(): { db?: string; secret?: string } {
  try {
    const env = JSON.parse(Deno.readTextFileSync(join(stateDir(), "stack.env.json")));
    return { db: env.SUPABASE_DB_URL, secret: env.SUPABASE_JWT_SECRET };
  } catch {
    return {};
  }
}

/** The lines ./bin/start prints for its user (token valid 1 hour). */
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

const argsSchema = z.object({
  user: z.uuid({ error: "must be a uuid" }).optional(),
  email: z.email({ error: "must be an email address" }).optional(),
  expires: z.string().optional(),
  "db-url": z.string().min(1).optional(),
  "jwt-secret": z.string().min(32, { error: "must be at least 32 characters" }).optional(),
}).refine((v) => !(v.user && v.email), { message: "pass --user or --email, not both" });

if (import.meta.main) {
  const { values } = parseCli("token", import.meta.url, {
    user: { type: "string" },
    email: { type: "string" },
    expires: { type: "string" },
    "db-url": { type: "string" },
    "jwt-secret": { type: "string" },
  });
  const parsed = argsSchema.safeParse(values);
  const expiresIn = parseDuration(values.expires ?? "1h");
  if (!parsed.success || expiresIn === null) {
    const why = !parsed.success
      ? parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join(".")} ` : ""}${i.message}`).join(
        "; ",
      )
      : `--expires ${values.expires}: use a duration such as 90s, 30m, 1h or 7d (at most 366d)`;
    console.error(`token: ${why}`);
    Deno.exit(2);
  }
  const a = parsed.data;
  const local = localStack();
  const dbUrl = a["db-url"] ?? Deno.env.get("DATABASE_URL") ?? local.db ?? databaseUrl();
  const secret = a["jwt-secret"] ?? Deno.env.get("SUPABASE_JWT_SECRET") ?? local.secret ?? LOCAL_JWT_SECRET;
  try {
    const user = await findUser(dbUrl, a.user ? { id: a.user } : { email: a.email ?? DEFAULT_TOKEN_EMAIL });
    const token = await mintToken(user, expiresIn, secret);
    const until = new Date(Date.now() + expiresIn * 1000).toISOString();
    console.error(`token for ${user.email ?? "(no email)"} (${user.id}), expires ${until}`);
    console.log(token);
  } catch (err) {
    console.error(`token: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
