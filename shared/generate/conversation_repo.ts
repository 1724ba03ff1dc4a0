/**
 * The generate flow's database port: scaffolding lookup, the `generating` row, the write-ahead, the spool, the
 * failure mark and the status poll. The domain (shared/generate/) owns this contract; the Postgres adapter
 * (shared/adapters/postgres_conversation_repo.ts) implements it, one guarded statement per state change, and
 * zero rows changed is reported as a value (`false`, `not_generating`), never an error. What a method throws is
 * already translated by the adapter: `InfraFailure("database_unavailable")` when trying again later can help, an
 * `AppError` for a rule the client broke, anything else a bug.
 */

export interface ScaffoldingIds {
  personaId: string;
  emotionalArcId: string;
  trainingTopicId: string;
  /** An explicit template; null selects one by `emotional_arc_type = arc_key` and tier. */
  templateId: string | null;
  tier: string;
}

/** Raw rows as JSON objects (`to_jsonb(row)`); null when missing or inactive. The domain validates them. */
export interface ScaffoldingRows {
  persona: unknown;
  arc: unknown;
  topic: unknown;
  template: unknown;
}

export interface NewConversation {
  conversationId: string;
  userId: string;
  personaId: string;
  emotionalArcId: string;
  trainingTopicId: string;
  templateId: string | null;
  personaKey: string;
  emotionalArcKey: string;
  topicKey: string;
  tier: string;
  snapshot: Record<string, unknown>;
  model: string;
  idempotencyKey: string | null;
  requestHash: string;
}

export interface ConversationState {
  conversation_id: string;
  user_id: string;
  processing_status: string;
  raw_response_path: string | null;
  parse_method_used: string | null;
  turn_count: number | null;
  requires_manual_review: boolean;
  parse_error_message: string | null;
  generation_error: string | null;
  truncated: boolean;
  request_hash: string | null;
}

/** What step 2 records. The size is not here: the storage trigger records the stored object's own size. */
export interface ClaudeRecord {
  rawSha256: string;
  stopReason: string | null;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  truncated: boolean;
  attempts: number;
}

/**
 * A durable copy of Claude's answer written ahead of the upload (docs/GENERATE.md "Raw first"): `write_ahead`
 * holds the complete answer, `checkpoint` the partial Message of a stream still running. Either is due for the
 * sweeper's flush only when `leaseMs` has passed (the worker is gone by then).
 */
export interface WriteAheadInput {
  conversationId: string;
  kind: "write_ahead" | "checkpoint";
  raw: Uint8Array;
  record: ClaudeRecord;
  leaseMs: number;
}

export interface SpoolInput {
  conversationId: string;
  userId: string;
  raw: Uint8Array;
  rawSha256: string;
  uploadAttempts: number;
  lastError: string;
}

/**
 * `spooled`: the bytes are in raw_response_spool and the row is `raw_spooled`. `not_generating`: the row had
 * already moved on (the storage trigger marked it `raw_stored`: an upload we thought failed did land), so
 * nothing was spooled. `missing`: no such row.
 */
export type SpoolOutcome = { kind: "spooled" } | { kind: "not_generating"; status: string } | {
  kind: "missing";
};

export type InsertOutcome = { inserted: true } | { inserted: false; existing: ConversationState };

export interface ConversationRepo {
  userExists(userId: string): Promise<boolean>;
  loadScaffolding(ids: ScaffoldingIds): Promise<ScaffoldingRows>;
  findByIdempotencyKey(userId: string, key: string): Promise<ConversationState | null>;
  /** Inserts the `generating` row; a concurrent request with the same idempotency key gets the winner's row. */
  insertGenerating(row: NewConversation): Promise<InsertOutcome>;
  /**
   * One statement: Claude's metadata on the row (parse-conversation verifies the sha256) and the bytes in
   * raw_response_spool, before the upload. False: the row is no longer generating (nothing written).
   */
  writeAhead(input: WriteAheadInput): Promise<boolean>;
  /** The upload is confirmed: drops the write-ahead copy if it still holds these bytes. */
  dropWriteAhead(conversationId: string, rawSha256: string): Promise<boolean>;
  spoolRaw(input: SpoolInput): Promise<SpoolOutcome>;
  markGenerationFailed(conversationId: string, error: string, attempts: number): Promise<boolean>;
  readState(conversationId: string): Promise<ConversationState | null>;
}
