/**
 * `deno task verify` (cli/verify.ts), run as the command users run: on the migrated test database, on a scratch
 * database that never got the raw-storage migration, and on one where the checklist's Step 7 SQL was pasted by
 * hand.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { databaseUrl, REPO_ROOT } from "../../../local/paths.ts";
import { STEP2_COLUMNS_QUERY } from "../../../cli/verify.ts";
import { createScratchDb, psqlFileOk, RUNBOOK_SQL_DIR, SCHEMA_MIGRATIONS } from "./_scratch_db.ts";
import { runDeno } from "../../support/run_deno.ts";

function verify(url: string): Promise<{ code: number; out: string }> {
  // The schema checks: scratch databases have no functions behind them (the chain: verify_chain_test.ts).
  return runDeno(["run", "-A", join(REPO_ROOT, "cli", "verify.ts"), "--db-url", url, "--schema-only"]);
}

function lines(out: string, status: "PASS" | "FAIL"): string[] {
  return out.split("\n").filter((l) => l.startsWith(status));
}

Deno.test("verify: the Step 2 query it runs is the runbook's, verbatim", async () => {
  const file = await Deno.readTextFile(join(RUNBOOK_SQL_DIR, "step2_verify_raw_storage_columns.sql"));
  assert.equal(STEP2_COLUMNS_QUERY, file.trimEnd());
});

Deno.test("verify passes on the migrated test database", async () => {
  const { code, out } = await verify(databaseUrl());
  assert.deepEqual(lines(out, "FAIL"), [], out);
  assert.equal(code, 0, out);
  assert.match(out, /PASS {2}raw-storage columns \(Step 2\): 9 rows/);
  assert.match(
    out,
    /PASS {2}bucket conversation-files \(Step 3\): private, 10 MB limit, application\/json only/,
  );
  assert.match(out, /PASS {2}index idx_conversations_requires_review/);
  assert.match(out, /PASS {2}index idx_conversations_parse_attempts/);
  assert.match(out, /PASS {2}RLS on public\.conversations/);
  assert.match(out, /PASS {2}RLS on storage\.objects/);
  assert.match(out, /PASS {2}view raw_storage_health \(Step 7\): answers: total_conversations=/);
  assert.match(out, /^\d+ passed, 0 failed$/m);
});

Deno.test("verify fails with clear messages on a database without the raw-storage migration", async () => {
  const before = SCHEMA_MIGRATIONS.slice(
    0,
    SCHEMA_MIGRATIONS.indexOf("20251117000200_add_raw_response_storage_columns.sql"),
  );
  const db = await createScratchDb("verifyold", before);
  try {
    const { code, out } = await verify(db.url);
    assert.equal(code, 1, out);
    const failed = lines(out, "FAIL");
    assert.ok(
      failed.includes(
        "FAIL  raw-storage columns (Step 2): expected 9 rows, got 0: public.conversations lacks raw_response_url, " +
          "raw_response_path, raw_response_size, raw_stored_at, parse_attempts, last_parse_attempt_at, " +
          "parse_error_message, parse_method_used, requires_manual_review. Apply " +
          "supabase/migrations/20251117000200_add_raw_response_storage_columns.sql",
      ),
      out,
    );
    assert.ok(
      failed.includes(
        "FAIL  index idx_conversations_requires_review: missing on public.conversations. Apply " +
          "supabase/migrations/20251117000200_add_raw_response_storage_columns.sql",
      ),
      out,
    );
    assert.ok(failed.some((l) => l.startsWith("FAIL  bucket conversation-files (Step 3): not found")), out);
    assert.ok(
      failed.some((l) => l.startsWith("FAIL  view raw_storage_health (Step 7): does not exist")),
      out,
    );
    assert.ok(
      failed.some((l) => l.startsWith("FAIL  RLS on public.conversations: enabled but no policy")),
      out,
    );
    assert.match(out, /^\d+ passed, [1-9]\d* failed$/m);
  } finally {
    await db.drop();
  }
});

Deno.test("verify fails when the health view was re-created by hand from the checklist (security_invoker lost)", async () => {
  const db = await createScratchDb("verifystep7");
  try {
    assert.equal((await verify(db.url)).code, 0, "a freshly migrated scratch database passes");
    await psqlFileOk(db.url, join(RUNBOOK_SQL_DIR, "step7_create_raw_storage_health_view.sql"));
    const { code, out } = await verify(db.url);
    assert.equal(code, 1, out);
    assert.deepEqual(
      lines(out, "FAIL").map((l) => l.split(":")[0]),
      ["FAIL  raw_storage_health is security_invoker"],
      out,
    );
  } finally {
    await db.drop();
  }
});

Deno.test("verify flags a public bucket and a user policy that could overwrite raw responses", async () => {
  const db = await createScratchDb("verifyweak");
  try {
    await db.sql`update storage.buckets set public = true where id = 'conversation-files'`;
    await db.sql`create policy "users update own files" on storage.objects for update to authenticated
                 using (bucket_id = 'conversation-files' and owner_id = (select auth.uid())::text)`;
    const { code, out } = await verify(db.url);
    assert.equal(code, 1, out);
    assert.match(out, /FAIL {2}bucket conversation-files \(Step 3\): it is public/);
    assert.match(
      out,
      /FAIL {2}conversation-files: no user update\/delete: .*"users update own files" \(UPDATE to/,
    );
  } finally {
    await db.drop();
  }
});

Deno.test("verify exits 2 when the database cannot be reached", async () => {
  const { code, out } = await verify("postgresql://postgres:postgres@127.0.0.1:1/postgres");
  assert.equal(code, 2, out);
  assert.match(out, /verify: cannot connect/);
  assert.doesNotMatch(out, /postgres:postgres@/, "the password is never printed");
});
