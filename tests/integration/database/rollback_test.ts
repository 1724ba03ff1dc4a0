/**
 * Rollback of the schema migrations (supabase/rollback/*.down.sql) and the checklist's Rollback Plan, on scratch
 * databases: up, down newest-first, up again; the seed migration twice; Option 2 on its own; Option 1 (code
 * rolled back, schema kept); the down scripts that refuse to lose data.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import {
  createScratchDb,
  migrationPath,
  psqlFile,
  psqlFileOk,
  RAW_STORAGE_MIGRATION,
  rollbackPath,
  SCHEMA_MIGRATIONS,
  schemaFingerprint,
} from "./_scratch_db.ts";

const NINE = [
  "raw_response_url",
  "raw_response_path",
  "raw_response_size",
  "raw_stored_at",
  "parse_attempts",
  "last_parse_attempt_at",
  "parse_error_message",
  "parse_method_used",
  "requires_manual_review",
];

Deno.test("every schema migration has a down script", () => {
  for (const m of SCHEMA_MIGRATIONS) assert.ok(existsSync(rollbackPath(m)), `missing ${rollbackPath(m)}`);
});

Deno.test("schema migrations apply, roll back newest-first to nothing, and apply again to the same schema", async () => {
  const db = await createScratchDb("updownup");
  try {
    const before = await schemaFingerprint(db.sql);
    assert.ok(before.columns.length > 60, "the schema was applied");

    for (const m of [...SCHEMA_MIGRATIONS].reverse()) {
      await psqlFileOk(db.url, rollbackPath(m));
      if (m === RAW_STORAGE_MIGRATION) {
        // Option 2 ran: the table is back to its pre-deployment shape.
        const cols = (await db.sql<{ column_name: string }[]>`
          select column_name from information_schema.columns
           where table_schema = 'public' and table_name = 'conversations'`).map((r) => r.column_name);
        assert.ok(cols.includes("conversation_id"), "conversations itself stays");
        assert.deepEqual(cols.filter((c) => NINE.includes(c)), [], "the nine columns are gone");
        const idx = await db.sql`select indexname from pg_indexes
                                  where indexname in ('idx_conversations_requires_review',
                                                      'idx_conversations_parse_attempts')`;
        assert.equal(idx.length, 0, "the two indexes are gone");
      }
    }

    const left = await db.sql`
      select c.relname from pg_class c
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'S', 'i')`;
    assert.deepEqual(left.map((r) => r.relname), [], "public is empty again");
    const [ns] = await db.sql`select to_regnamespace('private') is null as gone`;
    assert.equal(ns?.gone, true, "schema private is gone");
    const leftovers = await db.sql`
      select (select count(*)::int from storage.buckets where id = 'conversation-files') as buckets,
             (select count(*)::int from pg_policies where schemaname = 'storage'
                 and policyname like 'conversation-files:%') as policies`;
    assert.deepEqual(leftovers[0], { buckets: 0, policies: 0 }, "bucket and storage policies are gone");

    for (const m of SCHEMA_MIGRATIONS) await psqlFileOk(db.url, migrationPath(m));
    assert.deepEqual(await schemaFingerprint(db.sql), before, "up again yields exactly the same schema");
  } finally {
    await db.drop();
  }
});

Deno.test("the seed's raw-storage migration is idempotent: a second run changes nothing", async () => {
  const db = await createScratchDb("idempotent");
  try {
    const before = await schemaFingerprint(db.sql);
    await psqlFileOk(db.url, migrationPath(RAW_STORAGE_MIGRATION));
    await psqlFileOk(db.url, migrationPath(RAW_STORAGE_MIGRATION));
    assert.deepEqual(await schemaFingerprint(db.sql), before);
  } finally {
    await db.drop();
  }
});

Deno.test("Option 2 run alone on the full schema fails on the views that depend on it, and changes nothing", async () => {
  const db = await createScratchDb("option2alone");
  try {
    const before = await schemaFingerprint(db.sql);
    const res = await psqlFile(db.url, rollbackPath(RAW_STORAGE_MIGRATION));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /cannot drop column .* because other objects depend on it/);
    assert.match(res.stderr, /raw_storage_health/);
    assert.deepEqual(
      await schemaFingerprint(db.sql),
      before,
      "the BEGIN/COMMIT block rolled back as a whole",
    );
  } finally {
    await db.drop();
  }
});

Deno.test("Option 1: with the code rolled back and the schema kept, pre-deployment code still works", async () => {
  const db = await createScratchDb("option1");
  try {
    const sql = db.sql;
    const [user] = await sql`insert into auth.users (id, email) values (gen_random_uuid(), 'old@code.test')
                             returning id`;
    assert.ok(user);
    // Code from before the raw-storage deployment names none of the nine columns nor the pipeline's.
    const [row] = await sql`
      insert into conversations (user_id, persona_id, emotional_arc_id, training_topic_id, tier, processing_status,
                                 conversation_name, file_path, file_size, turn_count)
      values (${user.id}, null, null, null, 'template', 'completed', 'Old code',
              ${user.id + "/x/conversation.json"}, 2048, 8)
      returning conversation_id, parse_attempts, requires_manual_review, truncated, generation_attempts`;
    assert.deepEqual(
      { ...row, conversation_id: typeof row?.conversation_id },
      {
        conversation_id: "string",
        parse_attempts: 0,
        requires_manual_review: false,
        truncated: false,
        generation_attempts: 0,
      },
    );
    const updated = await sql`update conversations set conversation_name = 'renamed', turn_count = 9
                               where conversation_id = ${row!.conversation_id} returning updated_at`;
    assert.equal(updated.length, 1);
    // The seed's own writes keep working too (code of the deployment itself, should only some of it be reverted).
    await sql`update conversations set raw_response_path = 'raw/u/c.json', raw_response_size = 10,
                     raw_stored_at = now(), processing_status = 'raw_stored'
               where conversation_id = ${row!.conversation_id}`;
    // And the monitoring keeps answering.
    const [health] = await sql`select total_conversations from raw_storage_health`;
    assert.equal(health?.total_conversations, "1");
    const listed = await sql`select conversation_name from conversations where user_id = ${user.id}`;
    assert.deepEqual(listed.map((r) => r.conversation_name), ["renamed"]);
  } finally {
    await db.drop();
  }
});

Deno.test("the spool's down script refuses while raw responses are spooled (they exist nowhere else)", async () => {
  const db = await createScratchDb("spooldown");
  try {
    const sql = db.sql;
    const [user] = await sql`insert into auth.users (id) values (gen_random_uuid()) returning id`;
    const [conv] = await sql`insert into conversations (user_id, processing_status) values (${user!.id},
                             'raw_spooled') returning conversation_id`;
    await sql`insert into raw_response_spool (conversation_id, raw, raw_sha256, raw_size)
              select ${conv!.conversation_id}, b, encode(sha256(b), 'hex'), octet_length(b)
                from (select convert_to('{"id": "msg_1"}', 'UTF8') b) s`;
    const res = await psqlFile(db.url, rollbackPath("20251117000500_create_raw_response_spool.sql"));
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /Cannot drop public\.raw_response_spool: 1 raw responses are still spooled/);
    const [left] = await sql`select count(*)::int as n from raw_response_spool`;
    assert.equal(left?.n, 1);
  } finally {
    await db.drop();
  }
});

Deno.test("the bucket's down script keeps a bucket that holds objects", async () => {
  const db = await createScratchDb("bucketdown");
  try {
    await db.sql`insert into storage.objects (bucket_id, name) values ('conversation-files', 'raw/a/b.json')`;
    await psqlFileOk(db.url, rollbackPath("20251117000700_create_conversation_files_bucket.sql"));
    const [state] = await db.sql`
      select (select count(*)::int from storage.buckets where id = 'conversation-files') as buckets,
             (select count(*)::int from storage.objects where bucket_id = 'conversation-files') as objects,
             (select count(*)::int from pg_policies where policyname like 'conversation-files:%') as policies`;
    assert.deepEqual(state, { buckets: 1, objects: 1, policies: 0 });
  } finally {
    await db.drop();
  }
});
