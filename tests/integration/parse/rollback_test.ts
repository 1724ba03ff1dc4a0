/**
 * The parse flow's migrations (20251119*) go down cleanly in reverse order with supabase/rollback/*.down.sql and
 * come back up to the same objects, on a scratch database (the test database is never touched). Without
 * pg_cron there (it lives only in the cluster's main database) the schedule migration says so and skips.
 */
import assert from "node:assert/strict";
import {
  createScratchDb,
  migrationPath,
  psqlFileOk,
  rollbackPath,
  SCHEMA_MIGRATIONS,
} from "../database/_scratch_db.ts";

const PARSE_MIGRATIONS = [
  "20251119000000_create_raw_object_trigger.sql",
  "20251119000100_create_parse_claim_functions.sql",
  "20251119000200_create_raw_orphans_view.sql",
  "20251119000300_create_conversation_sweeper.sql",
  "20251119000400_schedule_conversation_sweeper.sql",
];

/** What the migrations create (functions in private, the trigger, the view), by name. */
const OURS = [
  "claim_conversation",
  "complete_parse",
  "count_parse_infra_failures",
  "defer_spooled_raw",
  "dispatch_parse",
  "expire_parse_claim",
  "fail_parse",
  "finish_spooled_raw",
  "give_up_parse",
  "is_auth_user",
  "is_forged_raw_upload",
  "is_raw_object_name",
  "lease_spooled_raw",
  "on_raw_object_stored",
  "raw_object_conversation_id",
  "raw_object_user_id",
  "raw_orphans",
  "reconcile_raw_objects",
  "record_raw_object",
  "release_parse_claim",
  "sweep_conversations",
].sort();

async function shape(sql: import("postgres").Sql): Promise<string[]> {
  const rows = await sql.unsafe(`
    select 'function ' || p.oid::regprocedure::text || ' ' || md5(pg_get_functiondef(p.oid)) as item
      from pg_proc p where p.pronamespace = 'private'::regnamespace
       and p.proname not in ('vault_secret', 'invoke_edge_function') and p.proname not like 'check\\_%'
       and p.proname not like 'set\\_%'
    union all
    select 'trigger ' || tgname || ' ' || pg_get_triggerdef(oid) from pg_trigger
     where tgrelid = 'storage.objects'::regclass and not tgisinternal and tgname = 'on_raw_object_stored'
    union all
    select 'view ' || c.relname || ' ' || md5(pg_get_viewdef(c.oid)) from pg_class c
     where c.relnamespace = 'public'::regnamespace and c.relname = 'raw_orphans'`);
  return rows.map((r) => String(r.item)).sort();
}

Deno.test("parse flow migrations: down in reverse order, then up again to the same objects", async () => {
  const db = await createScratchDb("parse_rollback", [
    ...SCHEMA_MIGRATIONS,
    "20251118000000_create_edge_function_invoker.sql",
    ...PARSE_MIGRATIONS,
  ]);
  try {
    const up = await shape(db.sql);
    assert.ok(up.some((s) => s.startsWith("trigger on_raw_object_stored")), "the trigger is installed");
    assert.ok(up.some((s) => s.startsWith("view raw_orphans")), "the view is installed");
    assert.ok(up.some((s) => s.includes("sweep_conversations")), "the sweeper is installed");

    for (const m of [...PARSE_MIGRATIONS].reverse()) await psqlFileOk(db.url, rollbackPath(m));
    const down = await shape(db.sql);
    const removed = up.filter((s) => !down.includes(s)).map((s) =>
      s.split(/[ (]/)[1].replace("private.", "")
    );
    assert.deepEqual([...new Set(removed)].sort(), OURS, "exactly this issue's objects are removed");
    assert.ok(down.every((s) => up.includes(s)), "nothing else changes");

    for (const m of PARSE_MIGRATIONS) await psqlFileOk(db.url, migrationPath(m));
    assert.deepEqual(await shape(db.sql), up);
  } finally {
    await db.drop();
  }
});
