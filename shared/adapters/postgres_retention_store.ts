/**
 * RetentionStore over PostgreSQL: thin calls to the functions of
 * supabase/migrations/20251120000300_create_raw_retention_functions.sql, rows validated with zod.
 */
import { z } from "zod";
import type { RetentionCandidate, RetentionStore, UnfinishedDeletion } from "../retention/retention_store.ts";
import type { Queryable } from "./postgres_monitor_store.ts";

const candidateRow = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  raw_response_path: z.string(),
  raw_response_size: z.number().nullable(),
  raw_stored_at: z.date(),
});

const unfinishedRow = z.object({
  conversation_id: z.string(),
  raw_response_path: z.string(),
  raw_deleted_at: z.date(),
});

const COLUMNS = "conversation_id::text, user_id::text, raw_response_path, " +
  "raw_response_size::float8 as raw_response_size, raw_stored_at";

function toCandidate(r: unknown): RetentionCandidate {
  const c = candidateRow.parse(r);
  return {
    conversationId: c.conversation_id,
    userId: c.user_id,
    path: c.raw_response_path,
    size: c.raw_response_size,
    rawStoredAt: c.raw_stored_at,
  };
}

/**
 * Retention's `RetentionStore` over PostgreSQL: one call per SQL function (candidates, totals, marking and
 * unmarking a batch as deleted); works on a pool or inside a caller's transaction.
 */
export function postgresRetentionStore(sql: Queryable): RetentionStore {
  return {
    async candidates(cutoff, limit) {
      const rows = await sql.unsafe(
        `select ${COLUMNS} from private.raw_retention_candidates($1, $2)`,
        [cutoff, limit],
      );
      return rows.map(toCandidate);
    },
    async totals(cutoff) {
      const [row] = await sql`
        select eligible::float8 as eligible, bytes::float8 as bytes from private.raw_retention_totals(${cutoff})`;
      return z.object({ eligible: z.number(), bytes: z.number() }).parse(row);
    },
    async markBatch(cutoff, limit, now) {
      const rows = await sql.unsafe(
        `select ${COLUMNS} from private.mark_raw_deleted($1, $2, $3)`,
        [cutoff, limit, now],
      );
      return rows.map(toCandidate);
    },
    async unmark(conversationIds, markedAt) {
      const [row] = await sql`
        select private.unmark_raw_deleted(${conversationIds}::uuid[], ${markedAt}) as n`;
      return z.number().int().parse(row.n);
    },
    async unfinished(since, before, limit): Promise<UnfinishedDeletion[]> {
      const rows = await sql`
        select conversation_id::text, raw_response_path, raw_deleted_at
          from private.raw_deletions_unfinished(${since}, ${before}, ${limit})`;
      return rows.map((r) => {
        const u = unfinishedRow.parse(r);
        return {
          conversationId: u.conversation_id,
          path: u.raw_response_path,
          rawDeletedAt: u.raw_deleted_at,
        };
      });
    },
  };
}
