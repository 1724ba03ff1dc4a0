/**
 * deno task seed:remote --db-url URL [--email E | --user-id UUID] [--dry-run]
 *
 * The runbook's Step 4b for a hosted project: `supabase db push` does not run supabase/seed.sql, so this loads
 * the scaffolding (personas, emotional arcs, training topics, prompt templates) into the target database and
 * names the user whose uuid the Step 5 smoke test sends in `x-user-id`.
 *
 *   --db-url URL    the project's direct connection string (or SUPABASE_DB_URL / DATABASE_URL)
 *   --email E       the smoke-test user: found by email, created in auth.users when missing
 *   --user-id UUID  an existing auth.users row instead (checked, never created)
 *   --dry-run       runs everything in a transaction that is rolled back: prints what it would insert
 *
 * supabase/seed.sql is idempotent (`on conflict do nothing`): running it again never overwrites an edited row.
 * Stdout gets `export` lines for Step 5 (USER_ID, PERSONA_ID, ARC_ID, TOPIC_ID: an active persona, arc and
 * topic that have an active `template`-tier prompt template), so `eval "$(deno task -q seed:remote …)"`
 * sets them; the report goes to stderr. Exit status: 0 done, 1 failed (the message says why), 2 bad arguments.
 */
import postgres from "postgres";
import { join } from "node:path";
import { z } from "zod";
import { databaseUrl, REPO_ROOT } from "../local/paths.ts";
import { parseCli } from "../local/parse_cli.ts";

export const SEED_TABLES = ["personas", "emotional_arcs", "training_topics", "prompt_templates"] as const;

export interface SeedReport {
  dryRun: boolean;
  inserted: Record<(typeof SEED_TABLES)[number], number>;
  user: { id: string; email: string | null; created: boolean } | null;
  ids: { persona: string; arc: string; topic: string } | null;
}

export class SeedError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

class Rollback extends Error {}

async function counts(tx: postgres.TransactionSql): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of SEED_TABLES) {
    const [{ n }] = await tx.unsafe(`select count(*)::int as n from public.${t}`);
    out[t] = Number(n);
  }
  return out;
}

/** A persona, arc and topic that generate-conversation accepts for tier `template` (an active template). */
async function smokeIds(tx: postgres.TransactionSql): Promise<SeedReport["ids"]> {
  const [row] = await tx<{ persona: string; arc: string; topic: string }[]>`
    select p.id::text as persona, a.id::text as arc, t.id::text as topic
      from public.prompt_templates pt
      join public.emotional_arcs a on a.arc_key = pt.emotional_arc_type and a.is_active
      cross join lateral (select id from public.personas where is_active order by id limit 1) p
      cross join lateral (select id from public.training_topics where is_active order by id limit 1) t
     where pt.is_active and pt.tier = 'template'
     order by a.id, pt.id
     limit 1`;
  return row ?? null;
}

async function nameUser(
  tx: postgres.TransactionSql,
  who: { email?: string; userId?: string },
): Promise<SeedReport["user"]> {
  if (who.userId) {
    const [row] = await tx<{ id: string; email: string | null }[]>`
      select id::text, email from auth.users where id = ${who.userId}::uuid`;
    if (!row) {
      throw new SeedError(
        "user_not_found",
        `no auth.users row has id ${who.userId}: create the user (Dashboard → Authentication → Add user) or ` +
          `pass --email to create one`,
      );
    }
    return { id: row.id, email: row.email, created: false };
  }
  if (!who.email) return null;
  const [found] = await tx<{ id: string }[]>`
    select id::text from auth.users where lower(email) = lower(${who.email}) order by created_at limit 1`;
  if (found) return { id: found.id, email: who.email, created: false };
  // The columns GoTrue itself fills for a confirmed email user without a password (it cannot sign in; the
  // smoke test authenticates with the service key and names the user in x-user-id).
  const [made] = await tx<{ id: string }[]>`
    insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data,
                            raw_user_meta_data, created_at, updated_at)
    values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
            ${who.email}, now(), '{"provider":"email","providers":["email"]}', '{}', now(), now())
    returning id::text`;
  return { id: made.id, email: who.email, created: true };
}

/** Loads supabase/seed.sql and names the user, in one transaction (rolled back on a dry run). */
export async function seedRemote(
  dbUrl: string,
  opts: { email?: string; userId?: string; dryRun: boolean },
): Promise<SeedReport> {
  const seedSql = Deno.readTextFileSync(join(REPO_ROOT, "supabase", "seed.sql"));
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {}, connect_timeout: 15 });
  let report: SeedReport | null = null;
  try {
    const [{ ok }] = await sql`select to_regclass('public.prompt_templates') is not null as ok`;
    if (!ok) {
      throw new SeedError(
        "schema_missing",
        "public.prompt_templates does not exist: apply the migrations first (supabase db push --db-url …)",
      );
    }
    await sql.begin(async (tx) => {
      const before = await counts(tx);
      await tx.unsafe(seedSql);
      const after = await counts(tx);
      const user = await nameUser(tx, opts);
      const inserted = Object.fromEntries(SEED_TABLES.map((t) => [t, after[t] - before[t]])) as SeedReport[
        "inserted"
      ];
      report = { dryRun: opts.dryRun, inserted, user, ids: await smokeIds(tx) };
      if (opts.dryRun) throw new Rollback();
    }).catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (!report) throw new SeedError("no_report", "the seed transaction ended without a report");
  return report;
}

/** The `export` lines for Step 5 (stdout). */
export function exportLines(r: SeedReport): string[] {
  const lines: string[] = [];
  if (r.user) lines.push(`export USER_ID=${r.user.id}`);
  if (r.ids) {
    lines.push(
      `export PERSONA_ID=${r.ids.persona}`,
      `export ARC_ID=${r.ids.arc}`,
      `export TOPIC_ID=${r.ids.topic}`,
    );
  }
  return lines;
}

/** The human report (stderr). */
export function reportLines(r: SeedReport): string[] {
  const verb = r.dryRun ? "would insert" : "inserted";
  const lines = SEED_TABLES.map((t) => `${t.padEnd(17)} ${verb} ${r.inserted[t]}`);
  if (r.user) {
    lines.push(
      r.user.created
        ? `user              ${r.dryRun ? "would create" : "created"} ${r.user.email} (${r.user.id})`
        : `user              ${r.user.email ?? "(no email)"} exists (${r.user.id})`,
    );
  } else lines.push("user              none named (pass --email or --user-id for the smoke test)");
  if (!r.ids) {
    lines.push("smoke-test ids    none: no active template-tier prompt template with an active arc");
  }
  if (r.dryRun) lines.push("dry run: nothing changed (the transaction was rolled back)");
  return lines;
}

const argsSchema = z.object({
  "db-url": z.string().min(1).optional(),
  email: z.email().optional(),
  "user-id": z.uuid().optional(),
  "dry-run": z.boolean().optional(),
}).refine((v) => !(v.email && v["user-id"]), { message: "pass --email or --user-id, not both" });

if (import.meta.main) {
  const { values } = parseCli("seed:remote", import.meta.url, {
    "db-url": { type: "string" },
    email: { type: "string" },
    "user-id": { type: "string" },
    "dry-run": { type: "boolean" },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    console.error(
      `seed:remote: ${
        parsed.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ")
      }`,
    );
    Deno.exit(2);
  }
  const a = parsed.data;
  const dbUrl = a["db-url"] ?? Deno.env.get("SUPABASE_DB_URL") ?? databaseUrl();
  try {
    const report = await seedRemote(dbUrl, {
      email: a.email,
      userId: a["user-id"],
      dryRun: a["dry-run"] ?? false,
    });
    for (const l of reportLines(report)) console.error(l);
    for (const l of exportLines(report)) console.log(l);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`seed:remote: ${msg}`);
    Deno.exit(1);
  }
}
