/**
 * Scratch databases for the database tests: created from template0 next to the test database, bootstrapped with
 * local/bootstrap/platform.sql, given this schema's migrations with psql (in order, as the checklist's SQL Editor
 * would run them), and dropped afterwards. The test database itself is never touched.
 *
 * Only the schema migrations of the database issue are applied (SCHEMA_MIGRATIONS): later migrations schedule
 * pg_cron jobs, and pg_cron exists only in the cluster's main database.
 */
import postgres from "postgres";
import { join } from "node:path";
import { databaseUrl, REPO_ROOT } from "../../../local/paths.ts";

export const MIGRATIONS_DIR = join(REPO_ROOT, "supabase", "migrations");
export const ROLLBACK_DIR = join(REPO_ROOT, "supabase", "rollback");
export const RUNBOOK_SQL_DIR = join(REPO_ROOT, "docs", "runbook-sql");
export const BOOTSTRAP_SQL = join(REPO_ROOT, "local", "bootstrap", "platform.sql");

/** The schema (docs/DATABASE.md), oldest first. */
export const SCHEMA_MIGRATIONS: readonly string[] = [
  "20251116000000_create_private_schema.sql",
  "20251117000000_create_scaffolding_tables.sql",
  "20251117000100_create_conversations_table.sql",
  "20251117000200_add_raw_response_storage_columns.sql",
  "20251117000300_add_pipeline_columns.sql",
  "20251117000400_create_parse_attempts.sql",
  "20251117000500_create_raw_response_spool.sql",
  "20251117000600_enable_rls_and_grants.sql",
  "20251117000700_create_conversation_files_bucket.sql",
  "20251117000800_create_monitoring_views.sql",
];

export const RAW_STORAGE_MIGRATION = "20251117000200_add_raw_response_storage_columns.sql";

export function migrationPath(name: string): string {
  return join(MIGRATIONS_DIR, name);
}

export function rollbackPath(migration: string): string {
  return join(ROLLBACK_DIR, migration.replace(/\.sql$/, ".down.sql"));
}

export interface PsqlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one SQL file with psql, stopping at the first error (the file runs unmodified). */
export async function psqlFile(url: string, file: string): Promise<PsqlResult> {
  const out = await new Deno.Command("psql", {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", file],
    env: { PGOPTIONS: "-c client_min_messages=warning" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

export async function psqlFileOk(url: string, file: string): Promise<void> {
  const res = await psqlFile(url, file);
  if (res.code !== 0) throw new Error(`psql -f ${file} exited ${res.code}: ${res.stderr.trim()}`);
}

export interface ScratchDb {
  readonly name: string;
  readonly url: string;
  readonly sql: postgres.Sql;
  drop(): Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

/** A fresh database with the platform bootstrap and the given migrations (all of the schema by default). */
export async function createScratchDb(
  label: string,
  migrations: readonly string[] = SCHEMA_MIGRATIONS,
): Promise<ScratchDb> {
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 10);
  const name = `zl_scratch_${label}_${suffix}`;
  const admin = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name} template template0`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(databaseUrl(), name);
  const drop = async () => {
    await sql.end({ timeout: 5 });
    const a = postgres(databaseUrl(), { max: 1, onnotice: () => {} });
    try {
      await a.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await a.end();
    }
  };
  const sql = postgres(url, { max: 2, onnotice: () => {}, prepare: false });
  try {
    await psqlFileOk(url, BOOTSTRAP_SQL);
    for (const m of migrations) await psqlFileOk(url, migrationPath(m));
  } catch (err) {
    await drop();
    throw err;
  }
  return { name, url, sql, drop };
}

/**
 * The shape of everything the schema migrations create, as comparable rows: columns, constraints, indexes,
 * views, policies, privileges, private functions and the bucket. Equal fingerprints mean equal schemas.
 */
export async function schemaFingerprint(sql: postgres.Sql): Promise<Record<string, string[]>> {
  const rows = async (query: string): Promise<string[]> =>
    (await sql.unsafe(query)).map((r) => JSON.stringify(r)).sort();
  return {
    columns: await rows(
      `select table_name, column_name, data_type, character_maximum_length, numeric_precision,
                                numeric_scale, is_nullable, column_default, col_description(
                                  (quote_ident(table_schema) || '.' || quote_ident(table_name))::regclass,
                                  ordinal_position) as comment
                           from information_schema.columns where table_schema = 'public'`,
    ),
    constraints: await rows(`select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
                               from pg_constraint where connamespace = 'public'::regnamespace`),
    indexes: await rows(`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public'`),
    views: await rows(`select c.relname, pg_get_viewdef(c.oid) as def, c.reloptions
                         from pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'`),
    rls: await rows(`select relname, relrowsecurity from pg_class
                      where relnamespace = 'public'::regnamespace and relkind = 'r'`),
    policies: await rows(
      `select schemaname, tablename, policyname, cmd, roles::text[] as roles, qual, with_check
                            from pg_policies where schemaname in ('public', 'storage')`,
    ),
    grants: await rows(`select table_name, grantee, privilege_type from information_schema.role_table_grants
                         where table_schema = 'public' and grantee in ('anon', 'authenticated', 'service_role')`),
    triggers: await rows(`select tgrelid::regclass::text as rel, tgname, pg_get_triggerdef(oid) as def
                            from pg_trigger where not tgisinternal
                              and tgrelid in (select oid from pg_class where relnamespace = 'public'::regnamespace)`),
    functions: await rows(`select p.proname, pg_get_functiondef(p.oid) as def, p.proacl::text[] as acl
                             from pg_proc p where p.pronamespace = to_regnamespace('private')`),
    bucket: await rows(`select id, public, file_size_limit, allowed_mime_types from storage.buckets
                         where id = 'conversation-files'`),
  };
}
