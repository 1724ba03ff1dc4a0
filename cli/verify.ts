/**
 * deno task verify [--db-url URL] [--schema-only] [--errors-since ISO-TIME]
 *
 * The deployment checklist's verification (Steps 2, 3 and 7) and the chain that wakes the functions, as one
 * command, for any database: the local stack, a staging project, production.
 *
 * Checks, one PASS/FAIL line each (a FAIL says what to do), then `N passed, N failed`; exit 1 when any check
 * fails, 2 when the database cannot be reached or the command line is wrong:
 *   schema (always)
 *   - the checklist's Step 2 query returns the nine raw-storage columns, with upstream's types;
 *   - bucket conversation-files exists, private, 10 MB limit, application/json only;
 *   - the indexes idx_conversations_requires_review and idx_conversations_parse_attempts, with their predicates;
 *   - RLS on public.conversations and storage.objects, with this project's policies, and no user policy that
 *     could update or delete an object of the bucket (raw responses are write-once);
 *   - the raw_storage_health view exists, has the checklist's columns, is security_invoker, and answers.
 *   chain (skipped with --schema-only, e.g. right after `supabase db push`, before the functions are deployed)
 *   - extensions pg_net and pg_cron; the Vault secrets project_url and service_role_key;
 *   - every cron job scheduled and its last run succeeded;
 *   - a pg_net round trip to each internal function (parse-conversation, storage-health-monitor,
 *     raw-retention; dry runs) answered 2xx;
 *   - net._http_response errors in the last hour (or since --errors-since).
 *
 * URL: --db-url, else DATABASE_URL, else the local stack's database. It changes no data: the round trips are
 * dry runs (three pg_net requests and their responses are the only rows it adds). */
import postgres from "postgres";
import { parseCli } from "../local/parse_cli.ts";
import { runChainChecks } from "./verify_chain.ts";
import { z } from "zod";
import { databaseUrl } from "../local/paths.ts";

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly message: string;
}

/** The checklist's Step 2 verification query, verbatim (also docs/runbook-sql/step2_verify_raw_storage_columns.sql). */
export const STEP2_COLUMNS_QUERY = `SELECT column_name, data_type
FROM information_schema.columns
WHERE table_name = 'conversations'
  AND column_name IN (
    'raw_response_url', 'raw_response_path', 'raw_response_size',
    'raw_stored_at', 'parse_attempts', 'last_parse_attempt_at',
    'parse_error_message', 'parse_method_used', 'requires_manual_review'
  )
ORDER BY column_name;`;

/** The seed migration's types (information_schema.columns.data_type spelling), in the checklist's order. */
export const RAW_STORAGE_COLUMNS: Readonly<Record<string, string>> = {
  raw_response_url: "text",
  raw_response_path: "text",
  raw_response_size: "bigint",
  raw_stored_at: "timestamp with time zone",
  parse_attempts: "integer",
  last_parse_attempt_at: "timestamp with time zone",
  parse_error_message: "text",
  parse_method_used: "character varying",
  requires_manual_review: "boolean",
};

const HEALTH_COLUMNS = [
  "total_conversations",
  "manual_review_count",
  "direct_parse_count",
  "jsonrepair_count",
  "raw_storage_mb",
  "avg_parse_attempts",
] as const;

const BUCKET = "conversation-files";
const BUCKET_LIMIT = 10_485_760;

const MIGRATIONS = {
  rawStorage: "supabase/migrations/20251117000200_add_raw_response_storage_columns.sql",
  rls: "supabase/migrations/20251117000600_enable_rls_and_grants.sql",
  bucket: "supabase/migrations/20251117000700_create_conversation_files_bucket.sql",
  views: "supabase/migrations/20251117000800_create_monitoring_views.sql",
} as const;

const ColumnRow = z.object({ column_name: z.string(), data_type: z.string() });
const BucketRow = z.object({
  public: z.boolean().nullable(),
  file_size_limit: z.coerce.number().nullable(),
  allowed_mime_types: z.array(z.string()).nullable(),
});
const IndexRow = z.object({ relname: z.string(), predicate: z.string().nullable(), definition: z.string() });
const RlsRow = z.object({ rls: z.boolean(), policies: z.coerce.number() });
const PolicyRow = z.object({ policyname: z.string(), cmd: z.string(), roles: z.array(z.string()) });
const ViewRow = z.object({ columns: z.array(z.string()), invoker: z.boolean() });

type Sql = postgres.Sql;

function pass(name: string, message: string): CheckResult {
  return { name, ok: true, message };
}

function fail(name: string, message: string): CheckResult {
  return { name, ok: false, message };
}

async function checkColumns(sql: Sql): Promise<CheckResult> {
  const name = "raw-storage columns (Step 2)";
  const rows = z.array(ColumnRow).parse(await sql.unsafe(STEP2_COLUMNS_QUERY));
  // The checklist's query has no schema filter; the types are judged on public.conversations.
  const own = z.array(ColumnRow).parse(
    await sql`select column_name, data_type from information_schema.columns
               where table_schema = 'public' and table_name = 'conversations'
                 and column_name = any(${Object.keys(RAW_STORAGE_COLUMNS)})`,
  );
  const found = new Map(own.map((r) => [r.column_name, r.data_type]));
  const missing = Object.keys(RAW_STORAGE_COLUMNS).filter((c) => !found.has(c));
  if (missing.length > 0) {
    return fail(
      name,
      `expected 9 rows, got ${rows.length}: public.conversations lacks ${missing.join(", ")}. ` +
        `Apply ${MIGRATIONS.rawStorage}`,
    );
  }
  const wrong = Object.entries(RAW_STORAGE_COLUMNS)
    .filter(([col, type]) => found.get(col) !== type)
    .map(([col, type]) => `${col} is ${found.get(col)} (expected ${type})`);
  if (wrong.length > 0) return fail(name, `wrong types: ${wrong.join("; ")}`);
  if (rows.length !== 9) {
    return fail(
      name,
      `expected 9 rows, got ${rows.length}: another schema also has a conversations table with these columns`,
    );
  }
  return pass(name, "9 rows, types as the seed migration defines them");
}

async function checkBucket(sql: Sql): Promise<CheckResult> {
  const name = `bucket ${BUCKET} (Step 3)`;
  if (!(await hasRelation(sql, "storage.buckets"))) {
    return fail(name, "storage.buckets does not exist: this is not a Supabase database");
  }
  const rows = z.array(BucketRow).parse(
    await sql`select public, file_size_limit, allowed_mime_types from storage.buckets where id = ${BUCKET}`,
  );
  const bucket = rows[0];
  if (!bucket) return fail(name, `not found. Apply ${MIGRATIONS.bucket}`);
  const problems: string[] = [];
  if (bucket.public !== false) problems.push("it is public (raw responses would be readable by anyone)");
  if (bucket.file_size_limit !== BUCKET_LIMIT) {
    problems.push(`file_size_limit is ${bucket.file_size_limit ?? "unset"} (expected ${BUCKET_LIMIT})`);
  }
  const mimes = bucket.allowed_mime_types ?? [];
  if (mimes.length !== 1 || mimes[0] !== "application/json") {
    problems.push(`allowed_mime_types is ${JSON.stringify(mimes)} (expected ["application/json"])`);
  }
  if (problems.length > 0) return fail(name, `${problems.join("; ")}. Apply ${MIGRATIONS.bucket}`);
  return pass(name, "private, 10 MB limit, application/json only");
}

async function checkIndexes(sql: Sql): Promise<CheckResult[]> {
  const rows = z.array(IndexRow).parse(
    await sql`select c.relname, pg_get_expr(i.indpred, i.indrelid) as predicate,
                     pg_get_indexdef(i.indexrelid) as definition
                from pg_index i
                join pg_class c on c.oid = i.indexrelid
               where i.indrelid = to_regclass('public.conversations')
                 and c.relname in ('idx_conversations_requires_review', 'idx_conversations_parse_attempts')`,
  );
  const expected: Array<[string, RegExp, string]> = [
    ["idx_conversations_requires_review", /requires_manual_review/, "WHERE requires_manual_review"],
    ["idx_conversations_parse_attempts", /parse_attempts > 0/, "WHERE parse_attempts > 0"],
  ];
  return expected.map(([index, predicate, described]) => {
    const name = `index ${index}`;
    const row = rows.find((r) => r.relname === index);
    if (!row) return fail(name, `missing on public.conversations. Apply ${MIGRATIONS.rawStorage}`);
    if (!row.predicate || !predicate.test(row.predicate)) {
      return fail(name, `not partial ${described}: ${row.definition}`);
    }
    return pass(name, `partial index ${described}`);
  });
}

async function hasRelation(sql: Sql, qualified: string): Promise<boolean> {
  const [row] = await sql`select to_regclass(${qualified}) is not null as present`;
  return row?.present === true;
}

async function checkRls(sql: Sql): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const targets: Array<[string, string, string]> = [
    ["public.conversations", "true", MIGRATIONS.rls],
    ["storage.objects", `qual like '%${BUCKET}%' or with_check like '%${BUCKET}%'`, MIGRATIONS.bucket],
  ];
  for (const [table, policyFilter, migration] of targets) {
    const name = `RLS on ${table}`;
    if (!(await hasRelation(sql, table))) {
      results.push(fail(name, `${table} does not exist`));
      continue;
    }
    const [schema, rel] = table.split(".");
    const rows = z.array(RlsRow).parse(
      await sql.unsafe(
        `select c.relrowsecurity as rls,
                (select count(*) from pg_policies p
                  where p.schemaname = $1 and p.tablename = $2 and (${policyFilter})) as policies
           from pg_class c where c.oid = to_regclass($3)`,
        [schema, rel, table],
      ),
    );
    const row = rows[0];
    if (!row?.rls) results.push(fail(name, `row level security is disabled. Apply ${migration}`));
    else if (row.policies === 0) {
      results.push(fail(name, `enabled but no policy grants access. Apply ${migration}`));
    } else results.push(pass(name, `enabled, ${row.policies} ${row.policies === 1 ? "policy" : "policies"}`));
  }

  // Write-once: no policy may let a user (or anon) update or delete an object of the bucket.
  const name = `${BUCKET}: no user update/delete`;
  if (await hasRelation(sql, "storage.objects")) {
    // A policy names the bucket, or names no bucket at all (then it applies to this one too).
    const mentions = `%${BUCKET}%`;
    const risky = z.array(PolicyRow).parse(
      await sql`select policyname, cmd, roles::text[] as roles from pg_policies
                 where schemaname = 'storage' and tablename = 'objects'
                   and cmd in ('UPDATE', 'DELETE', 'ALL')
                   and roles && array['public', 'anon', 'authenticated']::name[]
                   and (coalesce(qual, '') like ${mentions} or coalesce(with_check, '') like ${mentions}
                        or coalesce(qual, '') not like '%bucket_id%')`,
    );
    if (risky.length > 0) {
      results.push(fail(
        name,
        `policies let users change or remove objects (raw responses must be write-once): ${
          risky.map((p) => `"${p.policyname}" (${p.cmd} to ${p.roles.join(",")})`).join(", ")
        }`,
      ));
    } else results.push(pass(name, "no UPDATE/DELETE policy for users: objects are write-once"));
  }
  return results;
}

async function checkHealthView(sql: Sql): Promise<CheckResult[]> {
  const name = "view raw_storage_health (Step 7)";
  const rows = z.array(ViewRow).parse(
    await sql`select array(select a.attname::text from pg_attribute a
                            where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                            order by a.attnum) as columns,
                     coalesce('security_invoker=true' = any(c.reloptions)
                              or 'security_invoker=on' = any(c.reloptions), false) as invoker
                from pg_class c where c.oid = to_regclass('public.raw_storage_health')`,
  );
  const view = rows[0];
  if (!view) return [fail(name, `does not exist. Apply ${MIGRATIONS.views}`)];
  if (view.columns.join(",") !== HEALTH_COLUMNS.join(",")) {
    return [fail(name, `columns are ${view.columns.join(", ")} (expected ${HEALTH_COLUMNS.join(", ")})`)];
  }
  const answered = await sql`select * from public.raw_storage_health`;
  const first = answered[0];
  if (answered.length !== 1 || !first) return [fail(name, `returned ${answered.length} rows (expected 1)`)];
  const figures = HEALTH_COLUMNS.map((c) => `${c}=${first[c] ?? "null"}`).join(" ");
  const results = [pass(name, `answers: ${figures}`)];
  results.push(
    view.invoker
      ? pass("raw_storage_health is security_invoker", "callers see only rows their RLS allows")
      : fail(
        "raw_storage_health is security_invoker",
        `it runs as its owner, so any signed-in user sees every user's totals (was the checklist's CREATE OR ` +
          `REPLACE VIEW run by hand?). Apply ${MIGRATIONS.views} again`,
      ),
  );
  return results;
}

/** Runs every check against an open connection; never writes. */
export async function runChecks(sql: Sql): Promise<CheckResult[]> {
  return [
    await checkColumns(sql),
    await checkBucket(sql),
    ...await checkIndexes(sql),
    ...await checkRls(sql),
    ...await checkHealthView(sql),
  ];
}

/** host:port/database, without credentials, for the report header. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseCli("verify", import.meta.url, {
    "db-url": { type: "string" },
    "schema-only": { type: "boolean" },
    "errors-since": { type: "string" },
  }, { args });
  const errorsSince = values["errors-since"] === undefined ? undefined : new Date(values["errors-since"]);
  if (errorsSince && Number.isNaN(errorsSince.getTime())) {
    console.error(`verify: --errors-since: not a date/time (e.g. 2025-12-05T10:00:00Z)`);
    return 2;
  }
  const url = values["db-url"] ?? databaseUrl();
  console.log(`Verifying raw response storage on ${describeUrl(url)}`);
  const sql = postgres(url, { prepare: false, max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    try {
      await sql`select 1`;
    } catch (err) {
      console.error(`verify: cannot connect: ${err instanceof Error ? err.message : String(err)}`);
      return 2;
    }
    const results = await runChecks(sql);
    if (!values["schema-only"]) results.push(...await runChainChecks(sql, { errorsSince }));
    for (const r of results) console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.name}: ${r.message}`);
    const failed = results.filter((r) => !r.ok).length;
    console.log(`${results.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
