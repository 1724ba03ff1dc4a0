/**
 * The runbook's database commands, run as an operator would against a scratch project database: the backup
 * (Step 1, pg_dump / restore), `supabase migration up` (Step 2's `db push` path), `deno task verify`, and
 * Rollback Option 2 with its dry run (`deno task rollback --option 2 --dry-run`, then `--yes`, then re-apply).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliDbUrl, REPO_ROOT } from "../../../local/paths.ts";
import { supabaseCli } from "../../../local/proc.ts";
import { RAW_STORAGE_VERSION, withoutTransactionControl } from "../../../cli/rollback.ts";
import { createScratchDb, type ScratchDb } from "../database/_scratch_db.ts";
import { runDeno } from "../../support/run_deno.ts";

function task(script: string, args: string[]): Promise<{ code: number; out: string }> {
  return runDeno(["run", "-A", join(REPO_ROOT, script), ...args]);
}

/** `supabase db push --db-url URL --yes`, the runbook's Step 2 command (it keeps the migration ledger). */
async function dbPush(url: string): Promise<void> {
  await supabaseCli(["db", "push", "--db-url", cliDbUrl(url), "--yes"]);
}

/** A scratch project database (platform bootstrap only) after the runbook's Step 2. */
async function pushedDb(label: string): Promise<ScratchDb> {
  const db = await createScratchDb(label, []);
  try {
    await dbPush(db.url);
  } catch (err) {
    await db.drop();
    throw err;
  }
  return db;
}

async function rawColumns(db: ScratchDb): Promise<number> {
  const [{ n }] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from information_schema.columns
     where table_schema = 'public' and table_name = 'conversations'
       and column_name in ('raw_response_url', 'raw_response_path', 'raw_response_size', 'raw_stored_at',
                           'parse_attempts', 'last_parse_attempt_at', 'parse_error_message',
                           'parse_method_used', 'requires_manual_review')`;
  return n;
}

Deno.test("withoutTransactionControl() skips BEGIN/COMMIT lines and nothing else", () => {
  const text = "BEGIN;\nDROP INDEX x;\n  commit;\nselect 'BEGIN;';\n";
  assert.equal(
    withoutTransactionControl(text),
    "-- (transaction control skipped)\nDROP INDEX x;\n-- (transaction control skipped)\nselect 'BEGIN;';\n",
  );
});

Deno.test("rollback Option 2: the dry run changes nothing, the real run drops the nine columns, db push restores them", async () => {
  const db = await pushedDb("rb2");
  try {
    assert.equal(await rawColumns(db), 9);
    const [{ before }] = await db.sql<{ before: number }[]>`
      select count(*)::int as before from supabase_migrations.schema_migrations`;

    const refused = await task("cli/rollback.ts", ["--option", "2", "--db-url", db.url]);
    assert.equal(refused.code, 2, refused.out);
    assert.match(refused.out, /--dry-run first, then --yes/);

    const dry = await task("cli/rollback.ts", ["--option", "2", "--dry-run", "--db-url", db.url]);
    assert.equal(dry.code, 0, dry.out);
    assert.match(dry.out, new RegExp(`${RAW_STORAGE_VERSION}\\s+supabase/rollback/`));
    assert.match(dry.out, /nothing changed/);
    assert.equal(await rawColumns(db), 9, "a dry run leaves the columns");

    const real = await task("cli/rollback.ts", ["--option", "2", "--yes", "--db-url", db.url]);
    assert.equal(real.code, 0, real.out);
    assert.equal(await rawColumns(db), 0, "Option 2 drops the nine columns");
    const [{ left }] = await db.sql<{ left: number }[]>`
      select count(*)::int as left from supabase_migrations.schema_migrations where version >= ${RAW_STORAGE_VERSION}`;
    assert.equal(left, 0, "rolled-back migrations leave the ledger so db push re-applies them");

    const failing = await task("cli/verify.ts", ["--db-url", db.url, "--schema-only"]);
    assert.equal(failing.code, 1, "verify fails after Option 2");

    await dbPush(db.url);
    const [{ after }] = await db.sql<{ after: number }[]>`
      select count(*)::int as after from supabase_migrations.schema_migrations`;
    assert.equal(after, before);
    const passing = await task("cli/verify.ts", ["--db-url", db.url, "--schema-only"]);
    assert.equal(passing.code, 0, passing.out);
  } finally {
    await db.drop();
  }
});

Deno.test("backup (Step 1): a pg_dump of a project database restores with psql -f into an empty database", async () => {
  const source = await pushedDb("bk_src");
  const name = `zl_scratch_bk_dst_${crypto.randomUUID().slice(0, 8)}`;
  const targetUrl = (() => {
    const u = new URL(source.url);
    u.pathname = `/${name}`;
    return u.toString();
  })();
  const dump = await Deno.makeTempFile({ suffix: ".sql" });
  try {
    await source.sql`insert into auth.users (id, email) values (gen_random_uuid(), 'backup@test.local')`;
    // The runbook's command, with the checklist's file name pattern (plain SQL, restorable with psql -f).
    const dumped = await new Deno.Command("pg_dump", {
      args: ["--no-owner", "--no-privileges", "-f", dump, source.url],
      stderr: "piped",
    }).output();
    assert.equal(dumped.code, 0, new TextDecoder().decode(dumped.stderr));
    await source.sql.unsafe(`create database ${name} template template0`);
    const restored = await new Deno.Command("psql", {
      args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", targetUrl, "-f", dump],
      env: { PGOPTIONS: "-c client_min_messages=warning" },
      stderr: "piped",
      stdout: "piped",
    }).output();
    assert.equal(restored.code, 0, new TextDecoder().decode(restored.stderr));
    const v = await task("cli/verify.ts", ["--db-url", targetUrl, "--schema-only"]);
    assert.match(v.out, /PASS {2}raw-storage columns \(Step 2\): 9 rows/, v.out);
    assert.match(v.out, /PASS {2}bucket conversation-files/, v.out);
  } finally {
    await Deno.remove(dump).catch(() => {});
    await source.sql.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
    await source.drop();
  }
});
