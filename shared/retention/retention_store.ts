/**
 * What raw retention needs from the database (PostgreSQL implementation:
 * shared/adapters/postgres_retention_store.ts over the functions of
 * supabase/migrations/20251120000300_create_raw_retention_functions.sql).
 */

export interface RetentionCandidate {
  conversationId: string;
  userId: string;
  path: string;
  size: number | null;
  rawStoredAt: Date;
}

export interface UnfinishedDeletion {
  conversationId: string;
  path: string;
  rawDeletedAt: Date;
}

export interface RetentionStore {
  /** Eligible rows, oldest first (read only: the dry run). */
  candidates(cutoff: Date, limit: number): Promise<RetentionCandidate[]>;
  /** How many rows are eligible in total, and their raw bytes. */
  totals(cutoff: Date): Promise<{ eligible: number; bytes: number }>;
  /** Picks and marks (raw_deleted_at = now) one batch; returns the marked rows. */
  markBatch(cutoff: Date, limit: number, now: Date): Promise<RetentionCandidate[]>;
  /** Takes back this run's marks (raw_deleted_at = markedAt) after Storage refused the removal. */
  unmark(conversationIds: string[], markedAt: Date): Promise<number>;
  /** Rows marked between `since` and `before` whose object still exists (a run died after marking). */
  unfinished(since: Date, before: Date, limit: number): Promise<UnfinishedDeletion[]>;
}
