/**
 * The SQL behind generate-batch and the collector (migration 20251210000000_create_generation_batches.sql):
 * the batches table, the `batch_queued` conversations and their two exits. Every state change is one guarded
 * statement or one transaction; zero rows changed is a value, never an error. Driver failures reach the domain
 * translated (`translatingPostgresFailures`).
 *
 * used by: shared/batch/ (through `BatchStore`); wired in supabase/functions/generate-batch and collect-batches
 */
import { z } from "zod";
import { type Sql, translatingPostgresFailures, type TxSql } from "./postgres_sql.ts";
import type {
  BatchConversation,
  BatchRecord,
  BatchReservation,
  BatchStore,
  BatchView,
} from "../batch/batch_store.ts";

const partSchema = z.object({ path: z.string(), sha256: z.string(), size: z.number(), lines: z.number() });

const recordSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  anthropic_batch_id: z.string().nullable(),
  state: z.enum(["submitting", "in_progress", "canceling", "ended", "results_stored", "collected", "failed"]),
  request_count: z.number(),
  model: z.string(),
  request_hash: z.string(),
  requeue_depth: z.number(),
  collect_attempts: z.number(),
  results_sha256: z.string().nullable(),
  results_parts: z.array(partSchema).nullable(),
  created_at: z.coerce.date(),
  expires_at: z.coerce.date().nullable(),
});

const RECORD_COLUMNS =
  `id::text as id, user_id::text as user_id, anthropic_batch_id, state, request_count, model,
  request_hash, requeue_depth, collect_attempts, results_sha256, results_parts, created_at, expires_at`;

function toRecord(row: unknown): BatchRecord {
  const r = recordSchema.parse(row);
  return {
    id: r.id,
    userId: r.user_id,
    anthropicBatchId: r.anthropic_batch_id,
    state: r.state,
    requestCount: r.request_count,
    model: r.model,
    requestHash: r.request_hash,
    requeueDepth: r.requeue_depth,
    collectAttempts: r.collect_attempts,
    resultsSha256: r.results_sha256,
    resultsParts: r.results_parts,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/** A batch that ended without results (never submitted, or lost at Anthropic) fails its still-queued rows. */
async function failQueued(tx: TxSql, batchId: string, error: string): Promise<number> {
  const rows = await tx`
    update public.conversations set processing_status = 'generation_failed', generation_error = ${error}
     where batch_id = ${batchId}::uuid and processing_status = 'batch_queued'
    returning conversation_id`;
  return rows.length;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const counts = (v: unknown) => (v ?? {}) as Record<string, number>;

const VIEW_SQL = `
  select b.id::text as id, b.anthropic_batch_id, b.state, b.request_count, b.model, b.created_at, b.submitted_at,
         b.expires_at, b.ended_at, b.collected_at, b.counts, b.collected_counts, b.missing_count, b.last_error,
         coalesce((select jsonb_object_agg(s.processing_status, s.n)
                     from (select c.processing_status, count(*)::int as n from public.conversations c
                            where c.batch_id = b.id group by c.processing_status) s), '{}'::jsonb)
           as conversation_counts
    from public.generation_batches b`;

function toView(r: Record<string, unknown>): BatchView {
  return {
    batch_id: String(r.id),
    anthropic_batch_id: (r.anthropic_batch_id as string | null) ?? null,
    state: r.state as BatchView["state"],
    request_count: Number(r.request_count),
    model: String(r.model),
    created_at: iso(r.created_at)!,
    submitted_at: iso(r.submitted_at),
    expires_at: iso(r.expires_at),
    ended_at: iso(r.ended_at),
    collected_at: iso(r.collected_at),
    anthropic_counts: counts(r.counts),
    collected_counts: counts(r.collected_counts),
    missing_count: Number(r.missing_count),
    conversation_counts: counts(r.conversation_counts),
    last_error: (r.last_error as string | null) ?? null,
  };
}

/** The `BatchStore` port over PostgreSQL (service role; RLS is for users reading their own rows). */
export function postgresBatchStore(sql: Sql): BatchStore {
  const store: BatchStore = {
    async findByIdempotencyKey(userId, key) {
      const rows = await sql.unsafe(
        `select ${RECORD_COLUMNS} from public.generation_batches where user_id = $1::uuid and idempotency_key = $2`,
        [userId, key],
      );
      return rows.length > 0 ? toRecord(rows[0]) : null;
    },

    async reserve({ userId, requests, tokens, isService }): Promise<BatchReservation> {
      const [r] = await sql`
        select allowed, refused_limit, max_amount, used, reset_at, tokens_charged, tokens_window_start
          from private.reserve_batch(${userId}::uuid, ${requests}, ${tokens}, ${isService})`;
      if (r.allowed) {
        return {
          allowed: true,
          tokensCharged: r.tokens_charged,
          tokensWindowStart: r.tokens_window_start ? new Date(r.tokens_window_start) : null,
        };
      }
      return {
        allowed: false,
        limit: r.refused_limit,
        maxAmount: Number(r.max_amount ?? 0),
        used: Number(r.used ?? 0),
        resetAt: new Date(r.reset_at),
      };
    },

    async releaseTokens(userId, windowStart, amount) {
      await sql`select private.release_usage(${userId}::uuid, 'generate_output_tokens_per_day', ${windowStart},
        ${amount})`;
    },

    async insertBatch(batch, conversations) {
      return await sql.begin(async (tx) => {
        const inserted = await tx`
          insert into public.generation_batches (id, user_id, state, request_count, model, idempotency_key,
            request_hash, tokens_reserved, tokens_window_start, requeue_of, requeue_depth)
          values (${batch.batchId}::uuid, ${batch.userId}::uuid, 'submitting', ${batch.requestCount}, ${batch.model},
            ${batch.idempotencyKey}, ${batch.requestHash}, ${batch.tokensReserved}, ${batch.tokensWindowStart},
            ${batch.requeueOf}::uuid, ${batch.requeueDepth})
          on conflict (user_id, idempotency_key) do nothing
          returning id`;
        if (inserted.length === 0) {
          const existing = batch.idempotencyKey === null
            ? null
            : await store.findByIdempotencyKey(batch.userId, batch.idempotencyKey);
          if (!existing) throw new Error("Cannot insert the batch: conflict without an existing row");
          return { inserted: false as const, existing };
        }
        const rows = conversations.map((c) => ({
          conversation_id: c.conversationId,
          user_id: c.userId,
          persona_id: c.personaId,
          emotional_arc_id: c.emotionalArcId,
          training_topic_id: c.trainingTopicId,
          template_id: c.templateId,
          persona_key: c.personaKey,
          emotional_arc_key: c.emotionalArcKey,
          topic_key: c.topicKey,
          tier: c.tier,
          scaffolding_snapshot: c.snapshot,
          model: c.model,
          request_hash: c.requestHash,
        }));
        for (let i = 0; i < rows.length; i += 1000) {
          await tx`
            insert into public.conversations (conversation_id, user_id, persona_id, emotional_arc_id,
              training_topic_id, template_id, persona_key, emotional_arc_key, topic_key, tier, scaffolding_snapshot,
              model, request_hash, processing_status, batch_id)
            select x.conversation_id, x.user_id, x.persona_id, x.emotional_arc_id, x.training_topic_id,
                   x.template_id, x.persona_key, x.emotional_arc_key, x.topic_key, x.tier, x.scaffolding_snapshot,
                   x.model, x.request_hash, 'batch_queued', ${batch.batchId}::uuid
              from jsonb_to_recordset(${tx.json(rows.slice(i, i + 1000) as never)}) as x(
                conversation_id uuid, user_id uuid, persona_id uuid, emotional_arc_id uuid, training_topic_id uuid,
                template_id uuid, persona_key text, emotional_arc_key text, topic_key text, tier text,
                scaffolding_snapshot jsonb, model text, request_hash text)`;
        }
        return { inserted: true as const };
      });
    },

    async insertRequeue(batch, conversationIds) {
      const none = { moved: 0, tokensCarried: 0, tokensWindowStart: null };
      return await sql.begin(async (tx) => {
        // The original batch row first (locked): its reservation is what moves with the requests.
        const [orig] = await tx`
          select tokens_reserved, tokens_window_start, tokens_settled_at from public.generation_batches
           where id = ${batch.requeueOf}::uuid for update`;
        await tx`
          insert into public.generation_batches (id, user_id, state, request_count, model, request_hash,
            tokens_reserved, requeue_of, requeue_depth)
          values (${batch.batchId}::uuid, ${batch.userId}::uuid, 'submitting', ${batch.requestCount}, ${batch.model},
            ${batch.requestHash}, 0, ${batch.requeueOf}::uuid, ${batch.requeueDepth})`;
        const moved = await tx`
          update public.conversations set batch_id = ${batch.batchId}::uuid,
                 generation_attempts = generation_attempts + 1
           where conversation_id = any(${conversationIds}::uuid[]) and batch_id = ${batch.requeueOf}::uuid
             and processing_status = 'batch_queued'
          returning conversation_id,
                    case when scaffolding_snapshot ->> 'max_tokens' ~ '^[0-9]{1,9}$'
                         then (scaffolding_snapshot ->> 'max_tokens')::bigint else 0 end as max_tokens`;
        if (moved.length === 0) throw new Error("Cannot re-queue: no conversation was still queued");
        // Each moved request's max_tokens, as reserved at submit, moves from the original batch's reservation
        // (never more than it still holds, nothing once it was settled) to the new batch, in the same window.
        const wanted = moved.reduce((n, r) => n + Number(r.max_tokens), 0);
        const carried = orig && orig.tokens_window_start && !orig.tokens_settled_at
          ? Math.min(wanted, Number(orig.tokens_reserved))
          : 0;
        if (carried > 0) {
          await tx`update public.generation_batches set tokens_reserved = tokens_reserved - ${carried}
                    where id = ${batch.requeueOf}::uuid`;
        }
        await tx`update public.generation_batches
                    set request_count = ${moved.length}, tokens_reserved = ${carried},
                        tokens_window_start = ${carried > 0 ? orig.tokens_window_start : null}
                  where id = ${batch.batchId}::uuid`;
        return {
          moved: moved.length,
          tokensCarried: carried,
          tokensWindowStart: carried > 0 ? new Date(orig.tokens_window_start) : null,
        };
      }).catch((err) => {
        if (err instanceof Error && err.message.startsWith("Cannot re-queue")) return none;
        throw err;
      });
    },

    async markSubmitted(batchId, remote) {
      const rows = await sql`
        update public.generation_batches
           set anthropic_batch_id = ${remote.id}, state = 'in_progress', submitted_at = ${remote.createdAt},
               expires_at = ${remote.expiresAt}
         where id = ${batchId}::uuid and state = 'submitting'
        returning id`;
      return rows.length > 0;
    },

    async markSubmitFailed(batchId, error) {
      return await sql.begin(async (tx) => {
        await tx`update public.generation_batches set state = 'failed', last_error = ${error}
                  where id = ${batchId}::uuid and state = 'submitting'`;
        return await failQueued(tx, batchId, error);
      });
    },

    async markLost(batchId, error) {
      return await sql.begin(async (tx) => {
        const moved = await tx`update public.generation_batches set state = 'failed', last_error = ${error}
                                where id = ${batchId}::uuid and state in ('in_progress', 'canceling', 'ended')
                               returning id`;
        if (moved.length === 0) return 0;
        return await failQueued(tx, batchId, error);
      });
    },

    async get(batchId, userId) {
      const rows = await sql.unsafe(
        `${VIEW_SQL} where b.id = $1::uuid and ($2::uuid is null or b.user_id = $2::uuid)`,
        [batchId, userId],
      );
      return rows.length === 0 ? null : toView(rows[0]);
    },

    async list(userId, limit) {
      const rows = await sql.unsafe(
        `${VIEW_SQL} where ($1::uuid is null or b.user_id = $1::uuid) order by b.created_at desc, b.id limit $2`,
        [userId, limit],
      );
      return rows.map((r) => toView(r));
    },

    async record(batchId) {
      const rows = await sql.unsafe(
        `select ${RECORD_COLUMNS} from public.generation_batches where id = $1::uuid`,
        [
          batchId,
        ],
      );
      return rows.length > 0 ? toRecord(rows[0]) : null;
    },

    async conversationIds(batchId) {
      const rows = await sql`select conversation_id::text as id from public.conversations
                              where batch_id = ${batchId}::uuid order by created_at, conversation_id`;
      return rows.map((r) => r.id as string);
    },

    async openBatches(limit) {
      const rows = await sql.unsafe(
        `select ${RECORD_COLUMNS} from public.generation_batches
          where state in ('in_progress', 'canceling', 'ended', 'results_stored')
          order by last_polled_at nulls first, created_at limit $1`,
        [limit],
      );
      return rows.map(toRecord);
    },

    async staleSubmits(afterMs) {
      const rows = await sql`
        select id::text as id, request_count, created_at from public.generation_batches
         where state = 'submitting' and created_at < now() - make_interval(secs => ${afterMs / 1000})
         order by created_at limit 100`;
      return rows.map((r) => ({
        batchId: String(r.id),
        requestCount: Number(r.request_count),
        createdAt: new Date(r.created_at),
      }));
    },

    async knownAnthropicIds(ids) {
      if (ids.length === 0) return new Set<string>();
      const rows = await sql`select anthropic_batch_id from public.generation_batches
                              where anthropic_batch_id = any(${ids}::text[])`;
      return new Set(rows.map((r) => String(r.anthropic_batch_id)));
    },

    async failStaleSubmits(afterMs) {
      const rows = await sql`select batch_id from private.fail_stale_batch_submits(
        make_interval(secs => ${afterMs / 1000}))`;
      return rows.length;
    },

    async recordPoll(batchId, state, c, endedAt) {
      await sql`
        update public.generation_batches
           set state = case when state in ('in_progress', 'canceling') then ${state} else state end,
               counts = ${
        sql.json(c as never)
      }, ended_at = coalesce(ended_at, ${endedAt}), last_polled_at = now()
         where id = ${batchId}::uuid`;
    },

    async markCancelRequested(batchId) {
      const rows = await sql`
        update public.generation_batches set cancel_requested_at = coalesce(cancel_requested_at, now()),
               state = case when state = 'in_progress' then 'canceling' else state end
         where id = ${batchId}::uuid and state in ('in_progress', 'canceling') returning id`;
      return rows.length > 0;
    },

    async recordResults(batchId, r) {
      await sql`
        update public.generation_batches
           set state = 'results_stored', results_sha256 = ${r.sha256}, results_size = ${r.size},
               results_lines = ${r.lines}, results_parts = ${sql.json(r.parts as never)},
               results_stored_at = now(), last_error = null
         where id = ${batchId}::uuid and state = 'ended' and results_sha256 is null`;
      return await store.record(batchId);
    },

    async conversations(batchId): Promise<BatchConversation[]> {
      const rows = await sql`
        select c.conversation_id::text as id, c.user_id::text as user_id, c.processing_status,
               c.batch_id::text as batch_id
          from public.conversations c
         where c.batch_id = ${batchId}::uuid
            or c.batch_id in (select g.id from public.generation_batches g where g.requeue_of = ${batchId}::uuid)`;
      return rows.map((r) => ({
        conversationId: r.id,
        userId: r.user_id,
        status: r.processing_status,
        batchId: r.batch_id,
      }));
    },

    async snapshots(conversationIds) {
      const rows = await sql`
        select conversation_id::text as id, scaffolding_snapshot from public.conversations
         where conversation_id = any(${conversationIds}::uuid[])`;
      return new Map(rows.map((r) => [String(r.id), r.scaffolding_snapshot ?? null]));
    },

    async recordSucceeded(batchId, items) {
      if (items.length === 0) return [];
      const rows = items.map((i) => ({
        id: i.conversationId,
        sha: i.record.rawSha256,
        stop_reason: i.record.stopReason,
        model: i.record.model,
        input_tokens: i.record.inputTokens,
        output_tokens: i.record.outputTokens,
        cost_usd: i.record.costUsd,
        truncated: i.record.truncated,
        attempts: i.record.attempts,
      }));
      const updated = await sql`
        update public.conversations c
           set raw_sha256 = x.sha, stop_reason = x.stop_reason, model = coalesce(x.model, c.model),
               input_tokens = x.input_tokens, output_tokens = x.output_tokens, cost_usd = x.cost_usd,
               truncated = x.truncated, generation_attempts = greatest(c.generation_attempts, x.attempts)
          from jsonb_to_recordset(${
        sql.json(rows as never)
      }) as x(id uuid, sha text, stop_reason text, model text,
               input_tokens integer, output_tokens integer, cost_usd numeric, truncated boolean, attempts integer)
         where c.conversation_id = x.id and c.batch_id = ${batchId}::uuid and c.processing_status = 'batch_queued'
        returning c.conversation_id::text as id`;
      return updated.map((r) => r.id as string);
    },

    async markFailed(batchId, items) {
      if (items.length === 0) return 0;
      const rows = await sql`
        update public.conversations c
           set processing_status = 'generation_failed', generation_error = x.error
          from jsonb_to_recordset(${
        sql.json(items.map((i) => ({ id: i.conversationId, error: i.error })) as never)
      })
               as x(id uuid, error text)
         where c.conversation_id = x.id and c.batch_id = ${batchId}::uuid and c.processing_status = 'batch_queued'
        returning c.conversation_id`;
      return rows.length;
    },

    async recordCollectError(batchId, error) {
      await sql`update public.generation_batches
                   set last_error = ${error}, collect_attempts = collect_attempts + 1, last_polled_at = now()
                 where id = ${batchId}::uuid`;
    },

    async markCollected(batchId, tally) {
      return await sql.begin(async (tx) => {
        const [b] = await tx`
          update public.generation_batches
             set state = 'collected', collected_at = now(), collected_counts = ${
          tx.json(tally.counts as never)
        },
                 missing_count = ${tally.missing}, unknown_count = ${tally.unknown}, last_error = null,
                 tokens_settled_at = now()
           where id = ${batchId}::uuid and state = 'results_stored'
          returning user_id::text as user_id, tokens_reserved, tokens_window_start`;
        if (!b) return false;
        if (Number(b.tokens_reserved) > 0 && b.tokens_window_start) {
          const [{ used }] = await tx`
            select coalesce(sum(output_tokens), 0)::bigint as used from public.conversations
             where batch_id = ${batchId}::uuid and raw_sha256 is not null`;
          const give = Number(b.tokens_reserved) - Number(used);
          if (give > 0) {
            await tx`select private.release_usage(${b.user_id}::uuid, 'generate_output_tokens_per_day',
                       ${b.tokens_window_start}, ${give})`;
          }
        }
        return true;
      });
    },
  };
  return translatingPostgresFailures(store);
}
