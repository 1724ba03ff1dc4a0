/**
 * ReviewRepo over postgres.js: reads are plain SQL over `conversations` and `conversation_parse_attempts` (the
 * queue's partial indexes of supabase/migrations/20251121000000_create_review_functions.sql keep them fast);
 * every state change is one call to a `private.*` function of that migration. Rows are read with zod, so a
 * schema drift fails here and not as an undefined in a response.
 *
 * Timestamps leave the database as UTC text with microseconds (`to_char`): the keyset cursor needs the exact
 * value (a JS Date would drop the microseconds), and the JSON answers use the same form everywhere. They go back
 * in as text cast in SQL (`::text::timestamptz`): a parameter typed timestamptz is serialised by postgres.js
 * through a Date, which would cut the cursor to milliseconds and make pages skip or repeat rows.
 */
import { z } from "zod";
import { type Sql, translatingPostgresFailures } from "./postgres_sql.ts";
import { scaffoldingFromRow } from "./postgres_parse_queue.ts";
import type { CursorPosition } from "../review/cursor.ts";
import { CONVERSATION_SOURCES, type ListQuery } from "../review/list_query.ts";
import type {
  AttemptRow,
  Candidate,
  ItemBundle,
  ItemDetail,
  ListedItem,
  PreviewCandidate,
  QueueItem,
  Refusal,
  RepoScope,
  RetryAllFilter,
  ReviewRepo,
  StatusCounts,
} from "../review/repo.ts";

const ts = z.string().nullable();
const num = z.number().nullable();
const text = z.string().nullable();
const outcome = z.enum(["parsed", "partial", "failed", "error"]);

const latestAttempt = z.object({
  attempt_number: z.number().int(),
  outcome,
  method: text,
  error_code: text,
  parser_version: z.string(),
  triggered_by: text,
  created_at: z.string(),
}).nullable();

const itemRow = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  processing_status: z.string(),
  requires_manual_review: z.boolean(),
  in_review: z.boolean(),
  kind: z.enum(["failed", "partial"]),
  parse_attempts: z.number().int(),
  last_parse_attempt_at: ts,
  parse_error_message: text,
  parse_method_used: text,
  parser_version: text,
  stop_reason: text,
  truncated: z.boolean(),
  persona_key: text,
  emotional_arc_key: text,
  topic_key: text,
  tier: text,
  source: z.enum(CONVERSATION_SOURCES),
  raw_response_size: num,
  raw_stored_at: ts,
  created_at: z.string(),
  dismissed_at: ts,
  dismissed_reason: text,
  latest_attempt: latestAttempt,
});

const detailRow = itemRow.extend({
  raw_response_path: text,
  raw_sha256: text,
  raw_deleted_at: ts,
  model: text,
  input_tokens: num,
  output_tokens: num,
  file_path: text,
  conversation_name: text,
  turn_count: num,
  reviewed_by: text,
  reviewed_at: ts,
  review_notes: text,
  updated_at: z.string(),
});

const attemptRow = z.object({
  attempt_number: z.number().int(),
  parser_version: z.string(),
  method: text,
  outcome,
  error_code: text,
  error_message: text,
  fixes: z.unknown(),
  stop_reason: text,
  truncated: z.boolean(),
  duration_ms: num,
  triggered_by: text,
  created_at: z.string(),
});

const partialRow = z.object({
  attempt_number: z.number().int(),
  parser_version: z.string(),
  created_at: z.string(),
  conversation: z.unknown(),
});

const refusal = z.enum(["not_found", "not_in_review", "raw_unavailable", "unknown_reviewer"]).nullable();

const lockRow = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  in_review: z.boolean(),
  reviewer_exists: z.boolean(),
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

const countRow = z.object({
  processing_status: z.string(),
  method: z.string(),
  outcome: z.string(),
  parser_version: z.string(),
  n: z.number().int(),
});

const candidateRow = z.object({ conversation_id: z.string(), created_key: z.string() });
const previewRow = candidateRow.extend({
  raw_response_path: z.string(),
  raw_sha256: text,
  parser_version: text,
  processing_status: z.string(),
  outcome: text,
  method: text,
  error_code: text,
});

/**
 * The review queue's `ReviewRepo` over PostgreSQL: every action is scoped to the caller in SQL (another user's row
 * is `not_found`), refusals are values, and a lost connection reaches the domain as
 * `InfraFailure("database_unavailable")`.
 */
export function postgresReviewRepo(sql: Sql): ReviewRepo {
  /** UTC, microseconds: the cursor's key format (shared/review/cursor.ts). */
  const iso = (column: string) =>
    sql.unsafe(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);

  // The newest attempt of each listed row; (conversation_id, created_at) is indexed.
  const latestJoin = sql`
    left join lateral (
      select a.attempt_number, a.outcome, a.method, a.error_code, a.parser_version, a.triggered_by,
             ${iso("a.created_at")} as created_at
        from public.conversation_parse_attempts a
       where a.conversation_id = c.conversation_id
       order by a.created_at desc, a.id desc
       limit 1) la on true`;

  const itemColumns = sql`
    c.conversation_id::text, c.user_id::text, c.processing_status::text, c.requires_manual_review,
    (c.processing_status = 'parse_failed' and c.requires_manual_review) as in_review,
    case when c.truncated or la.outcome = 'partial' then 'partial' else 'failed' end as kind,
    c.parse_attempts, ${iso("c.last_parse_attempt_at")} as last_parse_attempt_at, c.parse_error_message,
    c.parse_method_used::text, c.parser_version, c.stop_reason, c.truncated, c.persona_key::text,
    c.emotional_arc_key::text, c.topic_key::text, c.tier::text, c.source, c.raw_response_size::float8 as raw_response_size,
    ${iso("c.raw_stored_at")} as raw_stored_at, ${iso("c.created_at")} as created_at,
    ${iso("c.dismissed_at")} as dismissed_at, c.dismissed_reason,
    case when la.attempt_number is null then null else jsonb_build_object(
      'attempt_number', la.attempt_number, 'outcome', la.outcome, 'method', la.method,
      'error_code', la.error_code, 'parser_version', la.parser_version, 'triggered_by', la.triggered_by,
      'created_at', la.created_at) end as latest_attempt`;

  function listWhere(q: ListQuery, after: CursorPosition | null) {
    const inReview = sql`c.processing_status = 'parse_failed' and c.requires_manual_review`;
    const status = q.status === "dismissed"
      ? sql`c.processing_status = 'parse_failed' and not c.requires_manual_review and c.dismissed_at is not null`
      : q.status === "partial"
      ? sql`${inReview} and (c.truncated or la.outcome = 'partial')`
      : q.status === "failed"
      ? sql`${inReview} and not (c.truncated or coalesce(la.outcome = 'partial', false))`
      : inReview;
    return sql`
      where ${status}
        ${q.userId === null ? sql`` : sql`and c.user_id = ${q.userId}::uuid`}
        ${q.source === null ? sql`` : sql`and c.source = ${q.source}`}
        ${q.since === null ? sql`` : sql`and c.created_at >= ${q.since}`}
        ${q.errorLike === null ? sql`` : sql`and c.parse_error_message ilike ${q.errorLike} escape '\\'`}
        ${
      after === null
        ? sql``
        : sql`and (c.created_at, c.conversation_id) < (${after.createdAt}::text::timestamptz, ${after.conversationId}::uuid)`
    }`;
  }

  function retryWhere(f: RetryAllFilter, after: CursorPosition | null) {
    return sql`
      where c.processing_status = 'parse_failed' and c.requires_manual_review
        and c.raw_response_path is not null and c.raw_deleted_at is null
        ${f.force ? sql`` : sql`and c.parser_version is distinct from ${f.currentVersion}`}
        ${f.since === null ? sql`` : sql`and c.created_at >= ${f.since}`}
        ${f.userId === null ? sql`` : sql`and c.user_id = ${f.userId}::uuid`}
        ${
      after === null
        ? sql``
        : sql`and (c.created_at, c.conversation_id) > (${after.createdAt}::text::timestamptz, ${after.conversationId}::uuid)`
    }`;
  }

  function fold(rows: readonly unknown[]): StatusCounts {
    let total = 0;
    const counts = { by_status: {}, by_method: {}, by_outcome: {}, by_parser_version: {} };
    const bump = (m: Record<string, number>, k: string, n: number) => (m[k] = (m[k] ?? 0) + n);
    for (const raw of rows) {
      const r = countRow.parse(raw);
      total += r.n;
      bump(counts.by_status, r.processing_status, r.n);
      bump(counts.by_method, r.method, r.n);
      bump(counts.by_outcome, r.outcome, r.n);
      bump(counts.by_parser_version, r.parser_version, r.n);
    }
    return { total, ...counts };
  }

  const countSelect = sql`
    select c.processing_status::text, coalesce(c.parse_method_used::text, 'none') as method,
           coalesce(la.outcome, 'none') as outcome, coalesce(c.parser_version, 'none') as parser_version,
           count(*)::int as n
      from public.conversations c ${latestJoin}`;
  const countGroup = sql`group by 1, 2, 3, 4`;

  const scopeOf = (scope: RepoScope) => scope.userId;

  // Translated at the edge: the parse flow sees InfraFailure("database_unavailable"), never a SQLSTATE.
  return translatingPostgresFailures({
    async list(q) {
      const rows = await sql`
        select ${itemColumns}
          from public.conversations c ${latestJoin}
          ${listWhere(q, q.after)}
         order by c.created_at desc, c.conversation_id desc
         limit ${q.limit + 1}`;
      const [{ total }] = await sql`
        select count(*)::int as total from public.conversations c ${latestJoin} ${listWhere(q, null)}`;
      const items: ListedItem[] = rows.slice(0, q.limit).map((row) => {
        const item = itemRow.parse(row) as QueueItem;
        return { item, position: { createdAt: item.created_at, conversationId: item.conversation_id } };
      });
      return { items, total: z.number().int().parse(total), hasMore: rows.length > q.limit };
    },

    async get(scope, conversationId): Promise<ItemBundle | null> {
      const userId = scopeOf(scope);
      const [row] = await sql`
        select ${itemColumns}, c.raw_response_path, c.raw_sha256, ${
        iso("c.raw_deleted_at")
      } as raw_deleted_at,
               c.model, c.input_tokens, c.output_tokens, c.file_path, c.conversation_name::text, c.turn_count,
               c.reviewed_by::text, ${iso("c.reviewed_at")} as reviewed_at, c.review_notes,
               ${iso("c.updated_at")} as updated_at
          from public.conversations c ${latestJoin}
         where c.conversation_id = ${conversationId}::uuid
           ${userId === null ? sql`` : sql`and c.user_id = ${userId}::uuid`}`;
      if (!row) return null;
      const item = detailRow.parse(row) as ItemDetail;
      const attempts = await sql`
        select a.attempt_number, a.parser_version, a.method::text, a.outcome, a.error_code, a.error_message,
               a.fixes, a.stop_reason, a.truncated, a.duration_ms::float8 as duration_ms, a.triggered_by,
               ${iso("a.created_at")} as created_at
          from public.conversation_parse_attempts a
         where a.conversation_id = ${conversationId}::uuid
         order by a.created_at, a.id`;
      const [partial] = await sql`
        select a.attempt_number, a.parser_version, ${iso("a.created_at")} as created_at,
               a.partial_conversation as conversation
          from public.conversation_parse_attempts a
         where a.conversation_id = ${conversationId}::uuid and a.partial_conversation is not null
         order by a.created_at desc, a.id desc
         limit 1`;
      return {
        item,
        attempts: attempts.map((a) => attemptRow.parse(a) as AttemptRow),
        partial: partial ? partialRow.parse(partial) : null,
      };
    },

    async requeue(scope, conversationId, now) {
      const [row] = await sql`
        select private.requeue_for_review(${conversationId}::uuid, ${
        scopeOf(scope)
      }::uuid, ${now}) as refusal`;
      return refusal.parse(row.refusal) as Refusal | null;
    },

    async resolve(scope, conversationId, input, writeFinal) {
      const userId = scopeOf(scope);
      return await sql.begin(async (tx) => {
        // The lock is held while the final file is uploaded: a concurrent resolve, dismiss or retry of the same
        // row waits here, then finds it no longer in review (409) instead of interleaving with this one.
        const [locked] = await tx`
          select c.conversation_id::text, c.user_id::text,
                 (c.processing_status = 'parse_failed' and c.requires_manual_review) as in_review,
                 (${input.reviewedBy}::uuid is null
                   or exists (select 1 from auth.users u where u.id = ${input.reviewedBy}::uuid)) as reviewer_exists,
                 p.id::text as persona_id, p.persona_key::text, p.name::text as persona_name,
                 p.archetype::text as persona_archetype,
                 a.id::text as emotional_arc_id, a.arc_key::text as emotional_arc_key,
                 a.name::text as emotional_arc_name,
                 t.id::text as training_topic_id, t.topic_key::text as training_topic_key,
                 t.name::text as training_topic_name, c.source
            from public.conversations c
            left join public.personas p on p.id = c.persona_id
            left join public.emotional_arcs a on a.id = c.emotional_arc_id
            left join public.training_topics t on t.id = c.training_topic_id
           where c.conversation_id = ${conversationId}::uuid
             ${userId === null ? sql`` : sql`and c.user_id = ${userId}::uuid`}
             for update of c`;
        if (!locked) return "not_found" as const;
        const r = lockRow.parse(locked);
        if (!r.in_review) return "not_in_review" as const;
        if (!r.reviewer_exists) return "unknown_reviewer" as const;
        const written = await writeFinal({
          conversationId: r.conversation_id,
          userId: r.user_id,
          scaffolding: scaffoldingFromRow(r),
        });
        const [row] = await tx`
          select private.resolve_conversation(
            p_conversation_id => ${conversationId}::uuid,
            p_user_id => ${userId}::uuid,
            p_reviewed_by => ${input.reviewedBy}::uuid,
            p_notes => ${input.notes},
            p_file_path => ${written.filePath},
            p_file_size => ${written.fileSize},
            p_turn_count => ${written.turnCount},
            p_conversation_name => ${written.conversationName},
            p_parser_version => ${input.parserVersion},
            p_now => ${input.now}) as refusal`;
        return refusal.parse(row.refusal) as Refusal | null;
      });
    },

    async dismiss(scope, conversationId, input) {
      const [row] = await sql`
        select private.dismiss_conversation(
          p_conversation_id => ${conversationId}::uuid,
          p_user_id => ${scopeOf(scope)}::uuid,
          p_reviewed_by => ${input.reviewedBy}::uuid,
          p_reason => ${input.reason},
          p_now => ${input.now}) as refusal`;
      return refusal.parse(row.refusal) as Refusal | null;
    },

    async candidates(filter, after, limit): Promise<Candidate[]> {
      const rows = await sql`
        select c.conversation_id::text, ${iso("c.created_at")} as created_key
          from public.conversations c
          ${retryWhere(filter, after)}
         order by c.created_at, c.conversation_id
         limit ${limit}`;
      return rows.map((row) => {
        const r = candidateRow.parse(row);
        return {
          conversationId: r.conversation_id,
          position: { createdAt: r.created_key, conversationId: r.conversation_id },
        };
      });
    },

    async previewCandidates(filter, after, limit): Promise<PreviewCandidate[]> {
      const rows = await sql`
        select c.conversation_id::text, ${
        iso("c.created_at")
      } as created_key, c.raw_response_path, c.raw_sha256,
               c.parser_version, c.processing_status::text, la.outcome, la.method, la.error_code
          from public.conversations c ${latestJoin}
          ${retryWhere(filter, after)}
         order by c.created_at, c.conversation_id
         limit ${limit}`;
      return rows.map((row) => {
        const r = previewRow.parse(row);
        return {
          conversationId: r.conversation_id,
          position: { createdAt: r.created_key, conversationId: r.conversation_id },
          rawResponsePath: r.raw_response_path,
          rawSha256: r.raw_sha256,
          parserVersion: r.parser_version,
          processingStatus: r.processing_status,
          outcome: r.outcome,
          method: r.method,
          errorCode: r.error_code,
        };
      });
    },

    async countCandidates(filter, after) {
      return fold(await sql`${countSelect} ${retryWhere(filter, after)} ${countGroup}`);
    },

    async countRows(conversationIds) {
      if (conversationIds.length === 0) return fold([]);
      return fold(
        await sql`${countSelect} where c.conversation_id = any(${conversationIds as string[]}::uuid[]) ${countGroup}`,
      );
    },
  });
}
