/**
 * The SQL behind generate-conversation: scaffolding lookup, the `generating` row, the write-ahead (Claude's
 * metadata and bytes), the spool,
 * the failure mark and the status poll. Each state change is one guarded statement (STYLE.md §6): it only moves
 * a row that is still `generating`, and zero rows changed means someone else (the storage trigger) got there
 * first — reported to the caller, never an error.
 *
 * Tables and columns: docs/DATABASE.md. State machine and ownership: docs/PIPELINE.md (steps 1, 2 and 3').
 *
 * used by: the generate flow's phases (shared/generate/, through `ConversationRepo`); wired in
 * shared/generate/deps_from_env.ts
 */
import { z } from "zod";
import { type Sql, translateDbError, translatingPostgresFailures } from "./postgres_sql.ts";
import type { ConversationRepo, ConversationState } from "../generate/conversation_repo.ts";

const stateSchema = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  processing_status: z.string(),
  raw_response_path: z.string().nullable(),
  parse_method_used: z.string().nullable(),
  turn_count: z.number().int().nullable(),
  requires_manual_review: z.boolean().nullable().transform((v) => v ?? false),
  parse_error_message: z.string().nullable(),
  generation_error: z.string().nullable(),
  truncated: z.boolean().nullable().transform((v) => v ?? false),
  request_hash: z.string().nullable(),
});

const STATE_COLUMNS = [
  "conversation_id::text as conversation_id",
  "user_id::text as user_id",
  "processing_status",
  "raw_response_path",
  "parse_method_used",
  "turn_count",
  "requires_manual_review",
  "parse_error_message",
  "generation_error",
  "truncated",
  "request_hash",
].join(", ");

function toState(row: unknown): ConversationState {
  return stateSchema.parse(row);
}

/**
 * The generate flow's `ConversationRepo` over PostgreSQL: each state change is one guarded statement, and zero
 * rows changed is returned as a value (`false`, `not_generating`), never thrown. Failures are translated here, at
 * the edge: a rule the database enforced becomes the client's error (`translateDbError`: 409, 404, 400, 403), a
 * lost connection, timeout or serialization failure `InfraFailure("database_unavailable")` — the flow never
 * sees a SQLSTATE.
 */
export function postgresConversationRepo(sql: Sql): ConversationRepo {
  return translatingPostgresFailures<ConversationRepo>({
    async userExists(userId) {
      const rows = await sql`select 1 from auth.users where id = ${userId}::uuid`;
      return rows.length > 0;
    },

    async loadScaffolding(ids) {
      // One round trip. The template is the explicit one, else the active template written for this arc and
      // tier (templates select on emotional_arc_type = arc_key, as upstream did); newest first when several.
      const rows = await sql`
        select
          (select to_jsonb(p) from public.personas p
            where p.id = ${ids.personaId}::uuid and p.is_active is not false) as persona,
          (select to_jsonb(a) from public.emotional_arcs a
            where a.id = ${ids.emotionalArcId}::uuid and a.is_active is not false) as arc,
          (select to_jsonb(t) from public.training_topics t
            where t.id = ${ids.trainingTopicId}::uuid and t.is_active is not false) as topic,
          case when ${ids.templateId}::uuid is not null then
            (select to_jsonb(pt) from public.prompt_templates pt
              where pt.id = ${ids.templateId}::uuid and pt.is_active is not false)
          else
            (select to_jsonb(pt) from public.prompt_templates pt
              where pt.is_active is not false
                and pt.tier = ${ids.tier}
                and pt.emotional_arc_type = (select a.arc_key from public.emotional_arcs a
                                              where a.id = ${ids.emotionalArcId}::uuid)
              order by pt.created_at desc nulls last, pt.id
              limit 1)
          end as template`;
      const r = rows[0] ?? {};
      return {
        persona: r.persona ?? null,
        arc: r.arc ?? null,
        topic: r.topic ?? null,
        template: r.template ?? null,
      };
    },

    async findByIdempotencyKey(userId, key) {
      const rows = await sql.unsafe(
        `select ${STATE_COLUMNS} from public.conversations where user_id = $1::uuid and idempotency_key = $2`,
        [userId, key],
      );
      return rows.length > 0 ? toState(rows[0]) : null;
    },

    async insertGenerating(row) {
      const inserted = await sql`
        insert into public.conversations (
          conversation_id, user_id, persona_id, emotional_arc_id, training_topic_id, template_id,
          persona_key, emotional_arc_key, topic_key, tier, scaffolding_snapshot, processing_status,
          model, idempotency_key, request_hash
        ) values (
          ${row.conversationId}::uuid, ${row.userId}::uuid, ${row.personaId}::uuid, ${row.emotionalArcId}::uuid,
          ${row.trainingTopicId}::uuid, ${row.templateId}::uuid, ${row.personaKey}, ${row.emotionalArcKey},
          ${row.topicKey}, ${row.tier}, ${sql.json(row.snapshot as Parameters<typeof sql.json>[0])},
          'generating', ${row.model}, ${row.idempotencyKey}, ${row.requestHash}
        )
        on conflict (user_id, idempotency_key) do nothing
        returning conversation_id`;
      if (inserted.length > 0) return { inserted: true };
      // Only an idempotency-key conflict lands here (conversation_id is fresh): return the winner's row.
      const existing = row.idempotencyKey === null
        ? null
        : await this.findByIdempotencyKey(row.userId, row.idempotencyKey);
      if (!existing) throw new Error("Cannot insert the conversation: conflict without an existing row");
      return { inserted: false, existing };
    },

    async writeAhead(input) {
      // One statement, so the metadata and the bytes commit together: a row that says it has an answer
      // (raw_sha256) always has the bytes somewhere durable. A later checkpoint or the final answer replaces the
      // bytes in place; a row Storage already refused (kind spooled) is never touched.
      const r = input.record;
      const rows = await sql`
        with moved as (
          update public.conversations
             set raw_sha256 = ${r.rawSha256}, stop_reason = ${r.stopReason}, model = coalesce(${r.model}, model),
                 input_tokens = ${r.inputTokens}, output_tokens = ${r.outputTokens}, cost_usd = ${r.costUsd},
                 truncated = ${r.truncated}, generation_attempts = ${r.attempts}
           where conversation_id = ${input.conversationId}::uuid and processing_status = 'generating'
          returning conversation_id, user_id
        )
        insert into public.raw_response_spool as s
          (conversation_id, user_id, raw, raw_sha256, raw_size, content_type, kind, next_attempt_at, updated_at)
        select conversation_id, user_id, ${input.raw}, ${r.rawSha256}, ${input.raw.byteLength},
               'application/json', ${input.kind},
               now() + make_interval(secs => ${input.leaseMs / 1000}), now()
          from moved
        on conflict (conversation_id) do update
           set raw = excluded.raw, raw_sha256 = excluded.raw_sha256, raw_size = excluded.raw_size,
               kind = excluded.kind, next_attempt_at = excluded.next_attempt_at, updated_at = now()
         where s.kind <> 'spooled'
        returning conversation_id`;
      return rows.length > 0;
    },

    async dropWriteAhead(conversationId, rawSha256) {
      const rows = await sql`
        delete from public.raw_response_spool
         where conversation_id = ${conversationId}::uuid and raw_sha256 = ${rawSha256} and kind = 'write_ahead'
        returning conversation_id`;
      return rows.length > 0;
    },

    async spoolRaw(input) {
      // One statement, so the spool row and the status change commit together: either the bytes are in the
      // spool and the row says raw_spooled, or neither happened. A write-ahead row of the same answer becomes
      // the spooled row (due now).
      const rows = await sql`
        with moved as (
          update public.conversations
             set processing_status = 'raw_spooled', raw_sha256 = coalesce(raw_sha256, ${input.rawSha256})
           where conversation_id = ${input.conversationId}::uuid and processing_status = 'generating'
          returning conversation_id, user_id
        )
        insert into public.raw_response_spool as s
          (conversation_id, user_id, raw, raw_sha256, raw_size, content_type, upload_attempts, last_error, kind)
        select conversation_id, user_id, ${input.raw}, ${input.rawSha256}, ${input.raw.byteLength},
               'application/json', ${input.uploadAttempts}, ${input.lastError}, 'spooled'
          from moved
        on conflict (conversation_id) do update
           set raw = excluded.raw, raw_sha256 = excluded.raw_sha256, raw_size = excluded.raw_size,
               upload_attempts = excluded.upload_attempts, last_error = excluded.last_error, kind = 'spooled',
               next_attempt_at = now(), updated_at = now()
         where s.kind <> 'spooled'
        returning conversation_id`;
      if (rows.length > 0) return { kind: "spooled" };
      const state = await this.readState(input.conversationId);
      return state ? { kind: "not_generating", status: state.processing_status } : { kind: "missing" };
    },

    async markGenerationFailed(conversationId, error, attempts) {
      const rows = await sql`
        update public.conversations
           set processing_status = 'generation_failed', generation_error = ${error},
               generation_attempts = ${attempts}
         where conversation_id = ${conversationId}::uuid and processing_status = 'generating'
        returning conversation_id`;
      return rows.length > 0;
    },

    async readState(conversationId) {
      const rows = await sql.unsafe(
        `select ${STATE_COLUMNS} from public.conversations where conversation_id = $1::uuid`,
        [conversationId],
      );
      return rows.length > 0 ? toState(rows[0]) : null;
    },
  }, translateDbError);
}
