/**
 * Every SQL query of the deployment checklist (docs/runbook-sql/, kept verbatim) run unmodified, as an operator
 * would paste it into the SQL Editor, against a migrated scratch database with a known fixture. Each file has a
 * case here; a file without one fails the first test.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type postgres from "postgres";
import { createScratchDb, RUNBOOK_SQL_DIR, SCHEMA_MIGRATIONS, type ScratchDb } from "./_scratch_db.ts";

const MiB = 1024 * 1024;
const PROJECT_URL = "https://abcdefghijklmnopqrst.supabase.co";

/**
 * The fixture, ages relative to the insert. Far from every window edge (5 min, 1 h, 24 h), so the few seconds
 * between insert and query never move a row across one.
 */
const FIXTURE = [
  // label, age, status, raw?, method, review, error, size, attempts
  ["a", "2 minutes", "raw_stored", true, null, false, null, 4096, 0],
  ["b", "10 minutes", "completed", true, "direct", false, null, 8192, 1],
  ["c", "30 minutes", "completed", true, "direct", false, null, 8192, 1],
  ["d", "40 minutes", "completed", true, "jsonrepair", false, null, 16384, 2],
  [
    "e",
    "50 minutes",
    "parse_failed",
    true,
    null,
    true,
    "Unterminated string in JSON at position 8517",
    8517,
    1,
  ],
  ["f", "2 hours", "parse_failed", true, null, true, "Unterminated string in JSON at position 8517", 8517, 1],
  ["g", "5 hours", "completed", true, "extracted", false, null, 2 * MiB, 1],
  ["h", "23 hours", "completed", true, "direct", false, null, 8192, 1],
  ["i", "25 hours", "parse_failed", true, null, true, "Claude refused: stop_reason refusal", 4096, 1],
  ["j", "30 days", "parse_failed", true, null, true, "Old parser: no JSON found", 4096, 1],
  ["k", "20 minutes", "generating", false, null, false, null, null, 0],
] as const;

/** Raw bytes of the rows inside the last 24 hours that have a raw response (a..h). */
const BYTES_24H = 4096 + 8192 + 8192 + 16384 + 8517 + 8517 + 2 * MiB + 8192;
/** Raw bytes of the rows inside the last hour that have a raw response (a..e). */
const BYTES_1H = 4096 + 8192 + 8192 + 16384 + 8517;

type Tx = postgres.TransactionSql;
type Case = (db: ScratchDb, run: (tx: Tx | postgres.Sql) => Promise<postgres.Row[]>) => Promise<void>;

async function loadFixture(sql: postgres.Sql): Promise<Record<string, string>> {
  // Step 4's secrets:sync has run on a deployed project: raw_response_url is built from project_url.
  await sql`select vault.create_secret(${PROJECT_URL}, 'project_url')`;
  const [user] = await sql`insert into auth.users (id, email) values (gen_random_uuid(), 'ops@runbook.test')
                           returning id`;
  assert.ok(user);
  const ids: Record<string, string> = {};
  for (const [label, age, status, hasRaw, method, review, error, size, attempts] of FIXTURE) {
    const [row] = await sql`
      insert into public.conversations (user_id, created_at, processing_status, raw_response_path,
        raw_response_size, raw_stored_at, parse_method_used, requires_manual_review, parse_error_message,
        parse_attempts)
      values (${user.id}, now() - ${age}::interval, ${status},
              ${hasRaw ? `raw/${user.id}/${label}.json` : null}, ${size},
              ${hasRaw ? sql`now() - ${age}::interval` : null}, ${method}, ${review}, ${error}, ${attempts})
      returning conversation_id`;
    assert.ok(row);
    ids[label] = row.conversation_id;
  }
  return ids;
}

let ids: Record<string, string> = {};

const CASES: Record<string, Case> = {
  "step2_verify_raw_storage_columns.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.equal(rows.length, 9, "Expected: 9 rows");
    assert.deepEqual(rows.map((r) => r.column_name), [
      "last_parse_attempt_at",
      "parse_attempts",
      "parse_error_message",
      "parse_method_used",
      "raw_response_path",
      "raw_response_size",
      "raw_response_url",
      "raw_stored_at",
      "requires_manual_review",
    ]);
  },

  "step3_check_bucket.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.equal(rows.length, 1, "the bucket exists");
    assert.equal(rows[0]?.public, false);
    assert.equal(rows[0]?.file_size_limit, "10485760");
    assert.deepEqual(rows[0]?.allowed_mime_types, ["application/json"]);
  },

  "step3_create_bucket_if_missing.sql": async (db, run) => {
    // On a migrated database the bucket exists, so the "If bucket doesn't exist" statement is a duplicate.
    await assert.rejects(run(db.sql), (err: Error & { code?: string }) => err.code === "23505");
    // Where it does not exist, it creates the private bucket (the migration also sets limit and MIME types).
    await db.sql.begin(async (tx) => {
      await tx`select set_config('storage.allow_delete_query', 'true', true)`;
      await tx`delete from storage.buckets where id = 'conversation-files'`;
      await run(tx);
      const [bucket] =
        await tx`select public, file_size_limit from storage.buckets where id = 'conversation-files'`;
      assert.deepEqual(bucket, { public: false, file_size_limit: null });
      throw new Rollback();
    }).catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  },

  "step5_check_latest_conversation.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.conversation_id, ids.a, "the newest conversation of the last 5 minutes");
    assert.match(row.raw_response_path, /^raw\//, "raw_response_path starts with raw/");
    assert.ok(Date.now() - new Date(row.raw_stored_at).getTime() < 10 * 60_000, "raw_stored_at is recent");
    assert.ok(["completed", "raw_stored"].includes(row.processing_status));
    // The checklist expects raw_response_url NOT NULL: the authenticated object URL, never a signed one.
    assert.equal(
      row.raw_response_url,
      `${PROJECT_URL}/storage/v1/object/authenticated/conversation-files/${row.raw_response_path}`,
    );
  },

  "step6_manual_review_last_hour.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.deepEqual(rows.map((r) => r.count), ["1"], "row e is the only review row of the last hour");
  },

  "step6_parse_methods_last_hour.sql": async (db, run) => {
    const rows = await run(db.sql);
    const byMethod = Object.fromEntries(rows.map((r) => [r.parse_method_used, [r.count, r.percentage]]));
    assert.deepEqual(byMethod, { direct: ["2", "66.67"], jsonrepair: ["1", "33.33"] });
  },

  "step6_storage_usage_last_hour.sql": async (db, run) => {
    const [row] = await run(db.sql);
    assert.equal(row?.conversations, "5");
    assert.ok(Math.abs(Number(row?.raw_mb) - BYTES_1H / MiB) < 1e-9, `raw_mb ${row?.raw_mb}`);
    assert.equal(Number(row?.avg_raw_bytes), BYTES_1H / 5);
  },

  "step7_create_raw_storage_health_view.sql": async (db, run) => {
    await db.sql.begin(async (tx) => {
      // It replaces the migration's view without error: same columns, same types, same meaning.
      await run(tx);
      const [health] = await tx`select total_conversations, manual_review_count, direct_parse_count,
                                       jsonrepair_count from raw_storage_health`;
      assert.deepEqual(health, {
        total_conversations: "8",
        manual_review_count: "2",
        direct_parse_count: "3",
        jsonrepair_count: "1",
      });
      // But CREATE OR REPLACE without WITH drops security_invoker (docs/DATABASE.md, "Views").
      const [opts] =
        await tx`select reloptions from pg_class where oid = 'public.raw_storage_health'::regclass`;
      assert.equal(opts?.reloptions, null);
      throw new Rollback();
    }).catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  },

  "post_deployment_1_parse_success_rate.sql": async (db, run) => {
    const rows = await run(db.sql);
    const sum = (k: string) => rows.reduce((n, r) => n + Number(r[k]), 0);
    assert.deepEqual([sum("total"), sum("direct"), sum("failed")], [8, 3, 2]);
    const hours = rows.map((r) => new Date(r.hour).getTime());
    assert.deepEqual(hours, [...hours].sort((x, y) => y - x), "newest hour first");
  },

  "post_deployment_2_storage_growth.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.equal(rows.reduce((n, r) => n + Number(r.conversations), 0), 8);
    const mb = rows.reduce((n, r) => n + Number(r.mb_per_hour), 0);
    assert.ok(Math.abs(mb - BYTES_24H / MiB) < 1e-9, `mb ${mb}`);
  },

  "post_deployment_3_error_patterns.sql": async (db, run) => {
    const rows = await run(db.sql);
    assert.deepEqual(rows.map((r) => [r.parse_error_message, r.count]), [
      ["Unterminated string in JSON at position 8517", "2"],
    ]);
  },

  "known_issue_high_manual_review_queue.sql": async (db, run) => {
    const rows = await run(db.sql);
    const byMessage = Object.fromEntries(rows.map((r) => [r.parse_error_message, r.count]));
    assert.deepEqual(byMessage, {
      "Unterminated string in JSON at position 8517": "2",
      "Claude refused: stop_reason refusal": "1",
      "Old parser: no JSON found": "1",
    }, "the whole queue, not only the last 24 hours");
  },

  "known_issue_storage_growth.sql": async (db, run) => {
    const [row] = await run(db.sql);
    assert.equal(Number(row?.max_bytes), 2 * MiB);
    assert.equal(Number(row?.avg_bytes), BYTES_24H / 8, "rows without a raw response are not averaged");
  },
};

class Rollback extends Error {}

Deno.test("every file in docs/runbook-sql has a test case, and every case a file", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(RUNBOOK_SQL_DIR)) if (e.name.endsWith(".sql")) files.push(e.name);
  assert.deepEqual(files.sort(), Object.keys(CASES).sort());
});

Deno.test("the checklist's SQL runs unmodified against a migrated database with fixture data", async (t) => {
  // The schema, plus what writes raw_response_url (Step 5 expects it NOT NULL) and the Vault reader it uses.
  const db = await createScratchDb("runbook", [
    ...SCHEMA_MIGRATIONS,
    "20251118000000_create_edge_function_invoker.sql",
    "20251202000000_write_raw_response_url.sql",
  ]);
  try {
    ids = await loadFixture(db.sql);
    for (const [file, check] of Object.entries(CASES)) {
      const text = await Deno.readTextFile(join(RUNBOOK_SQL_DIR, file));
      await t.step(file, () => check(db, (runner) => runner.unsafe(text)));
    }
  } finally {
    await db.drop();
  }
});
