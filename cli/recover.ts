/**
 * `deno task recover [--log FILE] [--project-ref REF --since ISO [--until ISO]] [--dry-run] [--json]`
 *
 * Stores the answers the log-ahead wrote to the function log (`raw_response_logged` lines, docs/GENERATE.md
 * "Raw first") whose worker died before the database or Storage took them: for each body that reassembles and
 * matches its sha256, whose row is still `generating` or closed as `generation_failed` with `worker_lost`, and
 * that has no raw object yet, the body is uploaded write-once to raw/{user_id}/{conversation_id}.json with the
 * service key, after the logged metadata (sha256, stop reason, model, tokens, cost) is recorded on the row
 * (private.record_recovered_answer); the storage trigger marks the row `raw_stored`, the parse runs (checking
 * the sha256), and `worker_lost` is cleared.
 * Running it again changes nothing. Prints one line per logged answer: restored, would_restore (--dry-run),
 * skipped (and why: incomplete, mismatched, row already further, object exists) or failed.
 *
 *   --log FILE         read JSON lines from FILE: the function's own lines, the local gateway's log
 *                      (`{"event":"function_log","function":"generate-conversation","line":…}`) or saved
 *                      Management API rows. Default (no --log, no --project-ref): the local stack's
 *                      <stateDir>/gateway.log
 *   --project-ref REF  read a hosted project's function logs through the Management API (logs.all, one query per
 *                      hour; SUPABASE_ACCESS_TOKEN; SUPABASE_API_URL overrides https://api.supabase.com)
 *   --since ISO        with --project-ref: where to start (the platform keeps function logs for days, not weeks)
 *   --until ISO        with --project-ref: where to stop (default: now)
 *   --db-url URL       where the rows are read (default DATABASE_URL, else the local stack's database)
 *   --dry-run          change nothing: list what would be restored
 *   --json             print the report as JSON
 *
 * Target: Storage at SUPABASE_URL with SUPABASE_SERVICE_ROLE_KEY when set (a real project), else the local
 * stack's `<stateDir>/stack.env.json`; rows (read only) from --db-url. Exit status: 0 done (even when some answers were skipped); 1 an upload or a read
 * failed; 2 bad arguments or no target.
 */
import { parseCli } from "../local/parse_cli.ts";
import { join } from "node:path";
import { stateDir } from "../local/paths.ts";
import { tryReadStackEnv } from "../local/stack_env.ts";
import {
  formatReport,
  partsFromManagementApi,
  partsFromText,
  recover,
  type RecoverTarget,
  rowSchema,
} from "../local/recover.ts";
import { supabaseObjectStore } from "../shared/adapters/supabase_object_store.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { estimateCostUsd } from "../shared/generate/cost.ts";
import type { LoggedPart } from "../shared/recover/assemble.ts";

const { values } = parseCli("recover", import.meta.url, {
  log: { type: "string" },
  "project-ref": { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  "db-url": { type: "string" },
  "dry-run": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
});

function fail(message: string, code: number): never {
  console.error(`recover: ${message}`);
  Deno.exit(code);
}

const stack = tryReadStackEnv();
const url = Deno.env.get("SUPABASE_URL") ?? stack?.SUPABASE_URL;
const serviceKey = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? stack?.SUPABASE_SERVICE_ROLE_KEY;
if (!url || !serviceKey) {
  fail("no target: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, or start the local stack", 2);
}
const dbUrl = values["db-url"] ?? Deno.env.get("DATABASE_URL") ?? stack?.SUPABASE_DB_URL;
if (!dbUrl) fail("no database: set DATABASE_URL or --db-url, or start the local stack", 2);

let parts: LoggedPart[];
try {
  if (values["project-ref"]) {
    const token = Deno.env.get("SUPABASE_ACCESS_TOKEN");
    if (!token) fail("--project-ref needs SUPABASE_ACCESS_TOKEN", 2);
    if (!values.since) fail("--project-ref needs --since ISO", 2);
    const since = new Date(values.since);
    const until = values.until ? new Date(values.until) : new Date();
    if (isNaN(since.getTime()) || isNaN(until.getTime())) fail("--since/--until must be ISO times", 2);
    parts = await partsFromManagementApi(
      {
        apiUrl: Deno.env.get("SUPABASE_API_URL") ?? "https://api.supabase.com",
        projectRef: values["project-ref"],
        token,
        since,
        until,
      },
      { fetch, warn: (s) => console.error(s) },
    );
  } else {
    const file = values.log ?? join(stateDir(), "gateway.log");
    parts = partsFromText(await Deno.readTextFile(file));
  }
} catch (err) {
  fail(`cannot read the logs: ${err instanceof Error ? err.message : String(err)}`, 1);
}

const store = supabaseObjectStore(url, serviceKey);
const sql = createSql(dbUrl, { max: 1 });
const target: RecoverTarget = {
  async rows(ids) {
    const rows = await sql`
      select conversation_id::text, user_id::text, processing_status, generation_error_code, raw_response_path
        from public.conversations where conversation_id = any(${ids}::uuid[])`;
    return rowSchema.array().parse(rows);
  },
  async recordAnswer(a) {
    const model = a.meta?.model ?? null;
    const usage = {
      input_tokens: a.meta?.usage.input_tokens ?? 0,
      output_tokens: a.meta?.usage.output_tokens ?? 0,
    };
    const [r] = await sql`
      select private.record_recovered_answer(
        ${a.conversationId}::uuid, ${a.rawSha256}, ${a.meta?.stop_reason ?? null}, ${model},
        ${a.meta?.usage.input_tokens ?? null}::int, ${a.meta?.usage.output_tokens ?? null}::int,
        ${a.meta ? estimateCostUsd(model, usage) : null}::numeric, ${a.meta?.truncated ?? false}) as ok`;
    return r.ok === true;
  },
  upload: (path, bytes) => store.upload(path, bytes, { upsert: false, contentType: "application/json" }),
};

try {
  const items = await recover(parts, target, { dryRun: values["dry-run"] });
  console.log(values.json ? JSON.stringify(items, null, 2) : formatReport(items));
  await sql.end();
  Deno.exit(items.some((i) => i.action === "failed") ? 1 : 0);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err), 1);
}
