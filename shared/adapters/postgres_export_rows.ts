/**
 * The export's database side (shared/export/run.ts `ExportSource.rows/count`): keyset pages of
 * `public.conversations` in (created_at, conversation_id) order. created_at travels as UTC text with
 * microseconds, so the cursor compares exactly (a JS Date would drop the microseconds and repeat or skip rows).
 */
import type { Sql } from "./postgres_sql.ts";
import type { ExportFilter } from "../export/filter.ts";
import { type Cursor, type ExportRow, exportRowSchema } from "../export/row.ts";

function where(sql: Sql, f: ExportFilter, after: Cursor | null) {
  const parts = [sql`c.processing_status = any(${f.statuses})`, sql`c.source = any(${f.sources})`];
  if (f.since !== null) parts.push(sql`c.created_at >= ${f.since}::timestamptz`);
  if (f.until !== null) parts.push(sql`c.created_at < ${f.until}::timestamptz`);
  if (f.methods !== null) parts.push(sql`c.parse_method_used = any(${f.methods})`);
  if (f.exclude_methods.length > 0) {
    parts.push(sql`(c.parse_method_used is null or c.parse_method_used <> all(${f.exclude_methods}))`);
  }
  if (f.models !== null) parts.push(sql`c.model = any(${f.models})`);
  if (f.personas !== null) parts.push(sql`c.persona_key = any(${f.personas})`);
  if (f.arcs !== null) parts.push(sql`c.emotional_arc_key = any(${f.arcs})`);
  if (f.topics !== null) parts.push(sql`c.topic_key = any(${f.topics})`);
  if (f.parser_versions !== null) parts.push(sql`c.parser_version = any(${f.parser_versions})`);
  if (f.users !== null) parts.push(sql`c.user_id = any(${f.users}::uuid[])`);
  if (after !== null) {
    // The first condition is implied by the second; it is there for the planner, which can range-scan
    // idx_conversations_created_at with it (a row comparison alone needs a two-column index).
    parts.push(sql`c.created_at >= ${after.created_at}::timestamptz`);
    parts.push(
      sql`(c.created_at, c.conversation_id) > (${after.created_at}::timestamptz, ${after.conversation_id}::uuid)`,
    );
  }
  return parts.reduce((acc, p, i) => (i === 0 ? sql`${p}` : sql`${acc} and ${p}`));
}

/**
 * The export's row source over PostgreSQL: the filter's rows in (created_at, conversation_id) order, one keyset
 * page per call after the cursor, so an export can resume exactly where it stopped; and the filter's count.
 */
export function postgresExportRows(sql: Sql) {
  return {
    async rows(f: ExportFilter, after: Cursor | null, limit: number): Promise<ExportRow[]> {
      const rows = await sql`
        select c.conversation_id::text, c.user_id::text,
               to_char(c.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
               c.processing_status, c.file_path, c.storage_bucket, c.parse_method_used, c.parser_version,
               c.source, c.model, c.raw_sha256, c.persona_key, c.emotional_arc_key, c.topic_key, c.tier,
               c.turn_count, c.conversation_name, c.stop_reason, c.input_tokens, c.output_tokens, c.truncated
          from public.conversations c
         where ${where(sql, f, after)}
         order by c.created_at, c.conversation_id
         limit ${limit}`;
      return rows.map((r) => exportRowSchema.parse(r));
    },
    async count(f: ExportFilter): Promise<number> {
      const [r] = await sql`select count(*)::int as n from public.conversations c where ${
        where(sql, f, null)
      }`;
      return Number(r.n);
    },
  };
}
