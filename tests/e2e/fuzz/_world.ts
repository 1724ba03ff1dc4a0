/**
 * The people and credentials the bad-input suite uses, and the write check it runs around every endpoint.
 *
 * Two users: A, the fuzzing user, has nothing (so no well-formed request of A's can change anything), and B, who
 * has one conversation waiting in the review queue (so A's requests can aim at an item that exists but is not
 * theirs). Credentials cover every way a caller can present itself, valid and forged; `Credential` names travel
 * with each case so a failure report never prints a token.
 */
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, signJwt } from "../../../local/keys.ts";
import { anonKey, createTestUser, mintUserToken, serviceKey, sql, stackEnv } from "../../support/stack.ts";

export const CREDENTIALS = [
  "user", // A's valid access token
  "service", // the legacy service_role JWT
  "secret_key", // the sb_secret_ key as the bearer (the gateway swaps it for the service JWT)
  "secret_apikey", // the sb_secret_ key in `apikey`, no Authorization
  "anon", // the anon key (a valid JWT without a user)
  "publishable", // the sb_publishable_ key (the gateway swaps it for the anon JWT)
  "none",
  "expired", // A's token, expired a minute ago
  "wrong_signature", // A's claims signed with another secret
  "alg_none", // A's claims, unsigned ("alg": "none")
  "forged_service", // role service_role signed with another secret
  "ghost_user", // a valid token for a user id that does not exist
  "garbage_bearer",
  "basic",
  "empty_bearer",
  "user_lowercase_scheme", // "bearer <token>": valid, the scheme is case-insensitive
] as const;

export type Credential = (typeof CREDENTIALS)[number];

export interface World {
  userA: string;
  userB: string;
  /** B's conversation in the review queue (parse_failed, requires_manual_review). */
  itemB: string;
  ghostUser: string;
  headers: Record<Credential, Record<string, string>>;
  /** Credentials that reach everything: a case using them must not name real rows. */
  privileged: ReadonlySet<Credential>;
  /** Every value that must never appear in an answer. */
  secrets: readonly string[];
  /** Keys the functions accept as the service role (what their env holds). */
  serviceKeys: readonly string[];
  jwtSecret: string;
  anonJwt: string;
}

function base64Url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function createWorld(): Promise<World> {
  const env = stackEnv();
  const a = await createTestUser();
  const b = await createTestUser();
  const itemB = crypto.randomUUID();
  await sql()`
    insert into public.conversations (conversation_id, user_id, processing_status, requires_manual_review,
      raw_response_path, parse_error_message, parse_attempts)
    values (${itemB}, ${b.id}, 'parse_failed', true, ${`raw/${b.id}/${itemB}.json`},
      'invalid_json: fixture for the bad-input suite', 1)`;
  const ghostUser = crypto.randomUUID();
  const other = "another-secret-that-is-not-the-project-one-0123456789";
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: a.id, role: "authenticated", aud: "authenticated", exp: now + 3600, iat: now };
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const headers: Record<Credential, Record<string, string>> = {
    user: bearer(a.token),
    service: bearer(serviceKey()),
    secret_key: bearer(LOCAL_SECRET_KEY),
    secret_apikey: { apikey: LOCAL_SECRET_KEY },
    anon: { ...bearer(anonKey()), apikey: anonKey() },
    publishable: { ...bearer(LOCAL_PUBLISHABLE_KEY), apikey: LOCAL_PUBLISHABLE_KEY },
    none: {},
    expired: bearer(await mintUserToken(a.id, { expiresIn: -60 })),
    wrong_signature: bearer(await mintUserToken(a.id, { secret: other })),
    alg_none: bearer(
      `${base64Url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64Url(JSON.stringify(claims))}.`,
    ),
    forged_service: bearer(
      await signJwt({ iss: "supabase-demo", role: "service_role", exp: now + 3600 }, other),
    ),
    ghost_user: bearer(await mintUserToken(ghostUser)),
    garbage_bearer: bearer("abc.def.ghi"),
    basic: { authorization: `Basic ${btoa("service_role:" + serviceKey().slice(0, 8))}` },
    empty_bearer: { authorization: "Bearer " },
    user_lowercase_scheme: { authorization: `bearer ${a.token}` },
  };
  const service = serviceKey();
  return {
    userA: a.id,
    userB: b.id,
    itemB,
    ghostUser,
    headers,
    privileged: new Set<Credential>(["service", "secret_key", "secret_apikey"]),
    secrets: [service, service.split(".")[2], env.SUPABASE_JWT_SECRET, LOCAL_SECRET_KEY],
    serviceKeys: [service, LOCAL_SECRET_KEY],
    jwtSecret: env.SUPABASE_JWT_SECRET,
    anonJwt: anonKey(),
  };
}

/** What a request could have written, for a set of ids (users and conversations named anywhere in the cases). */
export interface WriteSnapshot {
  conversations: string;
  attempts: string;
  spool: string;
  objects: string;
  alerts: string;
}

const UUID_IN_NAME = "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})";

/**
 * Fingerprints (count + md5 of the rows) rather than counts alone, so an UPDATE of an existing row (B's review
 * item, say) shows up as well as an INSERT.
 */
export async function snapshotWrites(ids: readonly string[]): Promise<WriteSnapshot> {
  const list = [...new Set(ids.map((i) => i.toLowerCase()))];
  const db = sql();
  const [c] = await db<{ v: string }[]>`
    select count(*) || ':' || coalesce(md5(string_agg(row_to_json(t)::text, '|' order by t.conversation_id)), '') as v
      from public.conversations t
     where t.user_id = any(${list}::uuid[]) or t.conversation_id = any(${list}::uuid[])`;
  const [a] = await db<{ v: string }[]>`
    select count(*) || ':' || coalesce(max(id), 0) as v from public.conversation_parse_attempts
     where user_id = any(${list}::uuid[]) or conversation_id = any(${list}::uuid[])`;
  const [s] = await db<{ v: string }[]>`
    select count(*) || ':' || coalesce(md5(string_agg(conversation_id::text || upload_attempts, '|'
             order by conversation_id)), '') as v
      from public.raw_response_spool
     where user_id = any(${list}::uuid[]) or conversation_id = any(${list}::uuid[])`;
  const [o] = await db<{ v: string }[]>`
    with named as (
      select o.bucket_id, o.name, o.updated_at,
             lower((regexp_matches(o.name, ${UUID_IN_NAME}, 'g'))[1]) as id
        from storage.objects o
    )
    select count(distinct (bucket_id, name)) || ':' ||
           coalesce(md5(string_agg(bucket_id || '/' || name || updated_at, '|' order by bucket_id, name)), '') as v
      from named where id = any(${list})`;
  const [al] = await db<{ v: string }[]>`
    select count(*) || ':' || coalesce(md5(string_agg(row_to_json(t)::text, '|' order by t.id)), '') as v
      from public.alerts t`;
  return { conversations: c.v, attempts: a.v, spool: s.v, objects: o.v, alerts: al.v };
}

/**
 * Whether pg_cron started the monitor job since `since`: its run (through pg_net, with the service key) may
 * legitimately change the alerts table while a fuzz run is going on.
 */
export async function monitorCronRanSince(since: Date): Promise<boolean> {
  const [{ present }] = await sql()<{ present: boolean }[]>`
    select exists (select 1 from pg_namespace where nspname = 'cron') as present`;
  if (!present) return false;
  const [{ ran }] = await sql()<{ ran: boolean }[]>`
    select exists (
      select 1 from cron.job_run_details d join cron.job j using (jobid)
       where j.jobname = 'storage-health-monitor' and d.start_time >= ${since}::timestamptz - interval '5 seconds'
    ) as ran`;
  return ran;
}
