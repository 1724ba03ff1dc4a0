/**
 * ParseQueue over postgres.js: each method is one call to a SQL function in schema `private`
 * (supabase/migrations/20251119000100_create_parse_claim_functions.sql), so every state change is one statement
 * or one transaction decided by the database. Rows are read with zod: a schema drift fails loudly here, not as
 * an undefined deep in the flow.
 */
import { z } from "zod";
import { type Sql, translatingPostgresFailures } from "./postgres_sql.ts";
import { CONVERSATION_SOURCES, type ConversationSource } from "../provenance.ts";
import type {
  ClaimResult,
  FinishCompleted,
  FinishFailed,
  ParseQueue,
  ReleaseClaim,
  ReleaseResult,
  Scaffolding,
  SpooledRaw,
} from "../parse_flow/parse_queue.ts";

/** Tunables, all with the SQL functions' defaults (docs/PARSE_FLOW.md "Settings"). */
export interface ParseQueueSettings {
  /** How long a claim lasts before another worker may take the row over. */
  readonly leaseSeconds: number;
  /** Infrastructure failures in a row before an item goes to review. */
  readonly maxInfraFailures: number;
  readonly backoffBaseSeconds: number;
  readonly backoffCapSeconds: number;
  /** How long a leased spool row is left to one flush. */
  readonly spoolLeaseSeconds: number;
}

export const DEFAULT_PARSE_QUEUE_SETTINGS: ParseQueueSettings = {
  leaseSeconds: 60,
  maxInfraFailures: 10,
  backoffBaseSeconds: 10,
  backoffCapSeconds: 900,
  spoolLeaseSeconds: 300,
};

const text = z.string().nullable();
const claimRow = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  attempt: z.number().int(),
  raw_response_path: z.string(),
  raw_sha256: text,
  claimed_until: z.date(),
  persona_id: text,
  persona_key: text,
  persona_name: text,
  persona_archetype: text,
  emotional_arc_id: text,
  emotional_arc_key: text,
  emotional_arc_name: text,
  training_topic_id: text,
  training_topic_key: text,
  training_topic_name: text,
  source: z.enum(CONVERSATION_SOURCES).nullable(),
});

const releaseRow = z.object({
  outcome: z.enum(["released", "gave_up", "lost_claim"]),
  next_attempt_at: z.date().nullable(),
  consecutive_failures: z.number().int().nullable(),
});

const spoolRow = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  raw: z.instanceof(Uint8Array),
  raw_sha256: z.string(),
  content_type: z.string(),
  upload_attempts: z.number().int(),
});

const seconds = (n: number) => `${n} seconds`;

/**
 * A value bound for a jsonb parameter, with U+0000 replaced by U+FFFD in every string and key. jsonb cannot hold
 * U+0000 (22P05): a partial conversation salvaged from a model answer containing one made fail_parse fail, and
 * the parse was retried as an infrastructure failure instead of being recorded once as partial. The raw object
 * keeps the exact text; only this copy is altered (found by tests/e2e/fuzz/nul_in_model_output_test.ts).
 */
export function jsonbSafe(value: unknown): unknown {
  if (typeof value === "string") {
    return value.includes("\u0000") ? value.replaceAll("\u0000", "\ufffd") : value;
  }
  if (Array.isArray(value)) return value.map(jsonbSafe);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [jsonbSafe(k) as string, jsonbSafe(v)]));
  }
  return value;
}

/**
 * The parse flow's `ParseQueue` over the `private` claim functions: every finish is fenced by the claim's attempt
 * number, and a lost claim is a `false` / `lost_claim` value. A lost connection reaches the flow as
 * `InfraFailure("database_unavailable")`, never as a driver error.
 */
export function postgresParseQueue(
  sql: Sql,
  settings: ParseQueueSettings = DEFAULT_PARSE_QUEUE_SETTINGS,
): ParseQueue {
  const json = (value: unknown) => sql.json(jsonbSafe(value) as Parameters<typeof sql.json>[0]);
  // Translated at the edge: the parse flow sees InfraFailure("database_unavailable"), never a SQLSTATE.
  return translatingPostgresFailures({
    async claim(conversationId, now): Promise<ClaimResult> {
      // The row's source rides along in the same statement (it never changes, so the snapshot is right).
      const rows = await sql`
        select q.*, (select c.source from public.conversations c where c.conversation_id = q.conversation_id)
               as source
          from private.claim_conversation(
          p_conversation_id => ${conversationId}::uuid,
          p_now => ${now},
          p_lease => ${seconds(settings.leaseSeconds)}::interval,
          p_max_infra_failures => ${settings.maxInfraFailures}) q`;
      if (rows.length === 0) {
        const [row] = await sql`
          select processing_status from public.conversations where conversation_id = ${conversationId}::uuid`;
        return { claimed: null, status: row ? String(row.processing_status) : null };
      }
      const r = claimRow.parse(rows[0]);
      return {
        claimed: {
          conversationId: r.conversation_id,
          userId: r.user_id,
          attempt: r.attempt,
          rawPath: r.raw_response_path,
          rawSha256: r.raw_sha256,
          claimedUntil: r.claimed_until,
          scaffolding: scaffoldingFromRow(r),
        },
      };
    },

    async finishCompleted(i: FinishCompleted): Promise<boolean> {
      const [row] = await sql`
        select private.complete_parse(
          p_conversation_id => ${i.conversationId}::uuid,
          p_attempt => ${i.attempt},
          p_method => ${i.method},
          p_parser_version => ${i.parserVersion},
          p_turn_count => ${i.turnCount},
          p_file_path => ${i.filePath},
          p_file_size => ${i.fileSize},
          p_conversation_name => ${i.conversationName},
          p_raw_sha256 => ${i.computedSha256},
          p_stop_reason => ${i.stopReason},
          p_fixes => ${json(i.fixes)}::jsonb,
          p_duration_ms => ${i.durationMs},
          p_triggered_by => ${i.triggeredBy},
          p_now => ${i.now}) as ok`;
      return row?.ok === true;
    },

    async finishFailed(i: FinishFailed): Promise<boolean> {
      const [row] = await sql`
        select private.fail_parse(
          p_conversation_id => ${i.conversationId}::uuid,
          p_attempt => ${i.attempt},
          p_outcome => ${i.outcome},
          p_error_code => ${i.errorCode},
          p_error_message => ${i.errorMessage},
          p_parser_version => ${i.parserVersion},
          p_method => ${i.method},
          p_truncated => ${i.truncated},
          p_partial_conversation => ${
        i.partialConversation === null ? null : json(i.partialConversation)
      }::jsonb,
          p_raw_sha256 => ${i.computedSha256},
          p_stop_reason => ${i.stopReason},
          p_fixes => ${json(i.fixes)}::jsonb,
          p_duration_ms => ${i.durationMs},
          p_triggered_by => ${i.triggeredBy},
          p_now => ${i.now}) as ok`;
      return row?.ok === true;
    },

    async release(i: ReleaseClaim): Promise<ReleaseResult> {
      const [row] = await sql`
        select * from private.release_parse_claim(
          p_conversation_id => ${i.conversationId}::uuid,
          p_attempt => ${i.attempt},
          p_error_code => ${i.errorCode},
          p_error_message => ${i.errorMessage},
          p_parser_version => ${i.parserVersion},
          p_duration_ms => ${i.durationMs},
          p_triggered_by => ${i.triggeredBy},
          p_now => ${i.now},
          p_backoff_base => ${seconds(settings.backoffBaseSeconds)}::interval,
          p_backoff_cap => ${seconds(settings.backoffCapSeconds)}::interval,
          p_max_infra_failures => ${settings.maxInfraFailures})`;
      const r = releaseRow.parse(row);
      if (r.outcome === "released") {
        return {
          outcome: "released",
          nextAttemptAt: r.next_attempt_at ?? i.now,
          consecutiveFailures: r.consecutive_failures ?? 0,
        };
      }
      if (r.outcome === "gave_up") {
        return { outcome: "gave_up", consecutiveFailures: r.consecutive_failures ?? 0 };
      }
      return { outcome: "lost_claim" };
    },

    async leaseSpool(now, limit): Promise<SpooledRaw[]> {
      const rows = await sql`
        select conversation_id, user_id, raw, raw_sha256, content_type, upload_attempts
          from private.lease_spooled_raw(
            p_limit => ${limit},
            p_now => ${now},
            p_lease => ${seconds(settings.spoolLeaseSeconds)}::interval)`;
      return rows.map((row) => {
        const r = spoolRow.parse(row);
        return {
          conversationId: r.conversation_id,
          userId: r.user_id,
          raw: r.raw,
          rawSha256: r.raw_sha256,
          contentType: r.content_type,
          uploadAttempts: r.upload_attempts,
        };
      });
    },

    async finishSpool(conversationId, rawSha256): Promise<boolean> {
      const [row] = await sql`
        select private.finish_spooled_raw(${conversationId}::uuid, ${rawSha256}) as ok`;
      return row?.ok === true;
    },

    async deferSpool(conversationId, now, error): Promise<void> {
      await sql`
        select private.defer_spooled_raw(
          p_conversation_id => ${conversationId}::uuid, p_error => ${error}, p_now => ${now})`;
    },
  });
}

/** The scaffolding columns (`persona_id` … `training_topic_name`) of a claimed or locked row, as `Scaffolding`. */
export function scaffoldingFromRow(r: {
  persona_id: string | null;
  persona_key: string | null;
  persona_name: string | null;
  persona_archetype: string | null;
  emotional_arc_id: string | null;
  emotional_arc_key: string | null;
  emotional_arc_name: string | null;
  training_topic_id: string | null;
  training_topic_key: string | null;
  training_topic_name: string | null;
  source?: ConversationSource | null;
}): Scaffolding {
  return {
    ...(r.source ? { source: r.source } : {}),
    personaId: r.persona_id,
    personaKey: r.persona_key,
    personaName: r.persona_name,
    personaArchetype: r.persona_archetype,
    emotionalArcId: r.emotional_arc_id,
    emotionalArcKey: r.emotional_arc_key,
    emotionalArcName: r.emotional_arc_name,
    trainingTopicId: r.training_topic_id,
    trainingTopicKey: r.training_topic_key,
    trainingTopicName: r.training_topic_name,
  };
}
