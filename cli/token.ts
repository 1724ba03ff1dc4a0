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
import { z } from "zod";
import { LOCAL_JWT_SECRET } from "../local/keys.ts";
import { parseCli } from "../local/parse_cli.ts";
import { databaseUrl } from "../local/paths.ts";
import { tryReadStackEnv } from "../local/stack_env.ts";
import { DEFAULT_TOKEN_EMAIL, findUser, mintToken, parseDuration } from "../local/user_token.ts";

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
  const local = tryReadStackEnv();
  const dbUrl = a["db-url"] ?? Deno.env.get("DATABASE_URL") ?? local?.SUPABASE_DB_URL ?? databaseUrl();
  const secret = a["jwt-secret"] ?? Deno.env.get("SUPABASE_JWT_SECRET") ?? local?.SUPABASE_JWT_SECRET ??
    LOCAL_JWT_SECRET;
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
