/**
 * `deno task rollback (--to VERSION | --option 2) [--db-url URL] [--dry-run | --yes]`
 *
 * The checklist's Rollback Plan, Option 2 ("Rollback Database + Code"), for this project: every applied
 * migration from VERSION on is undone with its `supabase/rollback/<version>_*.down.sql`, newest first, in ONE
 * transaction, and its row is removed from `supabase_migrations.schema_migrations` so a later `supabase db push`
 * applies it again. `--option 2` means "from the seed's raw-storage migration on" (its down script is the
 * checklist's own block): the views, functions and triggers built on the nine columns go first, since Postgres
 * refuses to drop columns they depend on.
 *
 * `--dry-run` runs exactly the same statements and then rolls the transaction back: it proves the rollback
 * works on this database without changing it (the checklist's "Rollback plan tested (dry run)"). A real run
 * needs `--yes`. Option 1 (revert the code, keep the schema) needs no command: see docs/RUNBOOK.md.
 *
 * The down scripts keep the checklist's `BEGIN;`/`COMMIT;` lines so they can also be pasted into the SQL editor;
 * here those lines are skipped, because the whole rollback must commit or roll back as one.
 */
import postgres from "postgres";
import { parseCli } from "../local/parse_cli.ts";
import { join } from "node:path";
import { databaseUrl, REPO_ROOT } from "../local/paths.ts";

export const RAW_STORAGE_VERSION = "20251117000200";
const ROLLBACK_DIR = join(REPO_ROOT, "supabase", "rollback");

export interface RollbackStep {
  version: string;
  file: string;
}

export interface RollbackResult {
  steps: RollbackStep[];
  committed: boolean;
}

/** Down scripts by version, from the files in supabase/rollback. */
export function downScripts(dir = ROLLBACK_DIR): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of Deno.readDirSync(dir)) {
    const m = /^(\d{14})_.*\.down\.sql$/.exec(entry.name);
    if (entry.isFile && m) out.set(m[1], join(dir, entry.name));
  }
  return out;
}

/** The script without its own transaction control, which would end our single transaction early. */
export function withoutTransactionControl(sqlText: string): string {
  return sqlText.replace(
    /^\s*(BEGIN|COMMIT|START TRANSACTION|END)\s*;\s*$/gim,
    "-- (transaction control skipped)",
  );
}

export async function rollback(
  dbUrl: string,
  target: string,
  opts: { dryRun: boolean; log?: (line: string) => void },
): Promise<RollbackResult> {
  const log = opts.log ?? console.log;
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  const scripts = downScripts();
  const DRY_RUN = Symbol("dry run");
  try {
    const [ledger] = await sql<{ exists: boolean }[]>`
      select to_regclass('supabase_migrations.schema_migrations') is not null as exists`;
    if (!ledger.exists) {
      throw new Error(
        "Cannot roll back: supabase_migrations.schema_migrations is missing (no migrations applied)",
      );
    }
    const applied = await sql<{ version: string }[]>`
      select version from supabase_migrations.schema_migrations where version >= ${target} order by version desc`;
    if (applied.length === 0) {
      throw new Error(`Cannot roll back to ${target}: no applied migration from it on`);
    }
    const steps: RollbackStep[] = applied.map(({ version }) => {
      const file = scripts.get(version);
      if (!file) throw new Error(`Cannot roll back ${version}: supabase/rollback has no down script for it`);
      return { version, file };
    });
    log(`${opts.dryRun ? "Dry run: " : ""}rolling back ${steps.length} migration(s), newest first:`);
    try {
      await sql.begin(async (tx) => {
        for (const step of steps) {
          log(`  ${step.version}  ${step.file.slice(REPO_ROOT.length + 1)}`);
          await tx.unsafe(withoutTransactionControl(Deno.readTextFileSync(step.file)));
          await tx`delete from supabase_migrations.schema_migrations where version = ${step.version}`;
        }
        if (opts.dryRun) throw DRY_RUN;
      });
    } catch (err) {
      if (err !== DRY_RUN) throw err;
      log("Dry run: every statement succeeded; the transaction was rolled back, nothing changed");
      return { steps, committed: false };
    }
    log("Rolled back and committed. Re-apply with `supabase db push` (or `deno task db:migrate` locally)");
    return { steps, committed: true };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (import.meta.main) {
  const { values } = parseCli("rollback", import.meta.url, {
    to: { type: "string" },
    option: { type: "string" },
    "db-url": { type: "string" },
    "dry-run": { type: "boolean", default: false },
    yes: { type: "boolean", default: false },
  });
  const target = values.option === "2" ? RAW_STORAGE_VERSION : values.to;
  if (!target || !/^\d{14}$/.test(target) || (values.option !== undefined && values.option !== "2")) {
    console.error(
      "usage: deno task rollback (--to YYYYMMDDHHMMSS | --option 2) [--db-url URL] [--dry-run | --yes]",
    );
    Deno.exit(2);
  }
  if (!values["dry-run"] && !values.yes) {
    console.error("rollback: this drops schema objects and their data; run with --dry-run first, then --yes");
    Deno.exit(2);
  }
  try {
    await rollback(values["db-url"] ?? databaseUrl(), target, { dryRun: values["dry-run"] });
  } catch (err) {
    console.error(`rollback: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
