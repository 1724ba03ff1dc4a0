/**
 * shared/adapters/postgres_review_repo.ts against the migrated database: the SQL behind the list (keyset order with equal
 * timestamps, filters, escaping), the detail bundle, and the resolve transaction (row lock, rollback when the
 * upload fails, two concurrent resolves). Rows are written directly in the states the pipeline leaves them in,
 * for fresh users, so other tests' rows never show.
 */
import assert from "node:assert/strict";
import { createSql } from "../../../shared/adapters/postgres_sql.ts";
import { postgresReviewRepo } from "../../../shared/adapters/postgres_review_repo.ts";
import { encodeCursor } from "../../../shared/review/cursor.ts";
import { parseListQuery } from "../../../shared/review/list_query.ts";
import type { WrittenFinal } from "../../../shared/review/repo.ts";
import { createTestUser, sql, stackEnv, stackTest } from "../../support/stack.ts";

const repo = () => postgresReviewRepo(createSql(stackEnv().SUPABASE_DB_URL, { max: 3 }));

interface Fixture {
  createdAt?: string;
  error?: string;
  truncated?: boolean;
  outcome?: "failed" | "partial";
  partial?: unknown;
}

async function inReview(userId: string, f: Fixture = {}): Promise<string> {
  const id = crypto.randomUUID();
  await sql()`
    insert into public.conversations (conversation_id, user_id, processing_status, requires_manual_review,
      raw_response_path, raw_response_size, raw_stored_at, parse_attempts, parser_version, parse_error_message,
      truncated, created_at)
    values (${id}, ${userId}, 'parse_failed', true, ${`raw/${userId}/${id}.json`}, 4096, now(), 1, '2025.11.0',
      ${f.error ?? "invalid_json: Unterminated string at position 8517"}, ${f.truncated ?? false},
      ${f.createdAt ?? new Date().toISOString()}::text::timestamptz)`;
  await sql()`
    insert into public.conversation_parse_attempts (conversation_id, attempt_number, parser_version, outcome,
      error_code, error_message, partial_conversation, triggered_by)
    values (${id}, 1, '2025.11.0', ${f.outcome ?? "failed"}, 'invalid_json', 'Unterminated string',
      ${f.partial === undefined ? null : sql().json(f.partial as never)}, 'trigger')`;
  return id;
}

const list = (userId: string, query: string) =>
  repo().list(parseListQuery(new URLSearchParams(query), { kind: "user", userId }));

stackTest(
  "review_repo.list() pages newest first and breaks equal timestamps by conversation_id",
  async () => {
    const u = await createTestUser();
    const same = "2025-11-21T09:00:00.123456Z";
    const made = [
      await inReview(u.id, { createdAt: same }),
      await inReview(u.id, { createdAt: same }),
      await inReview(u.id, { createdAt: same }),
      await inReview(u.id, { createdAt: "2025-11-21T09:00:00.123457Z" }),
      await inReview(u.id, { createdAt: "2025-11-21T08:00:00Z" }),
    ];
    const seen: string[] = [];
    let query = "limit=2";
    for (let page = 0; page < 5; page++) {
      const r = await list(u.id, query);
      assert.equal(r.total, 5);
      seen.push(...r.items.map((i) => i.item.conversation_id));
      if (!r.hasMore) break;
      const last = r.items[r.items.length - 1];
      const tag = parseListQuery(new URLSearchParams("limit=2"), { kind: "user", userId: u.id }).fingerprint;
      query = `limit=2&cursor=${encodeCursor(last.position, tag)}`;
    }
    const sameSorted = made.slice(0, 3).sort().reverse();
    assert.deepEqual(seen, [made[3], ...sameSorted, made[4]], "microseconds kept; ties by id, descending");
  },
);

stackTest(
  "review_repo.list() filters: partial vs failed, since, and a literal % in the error text",
  async () => {
    const u = await createTestUser();
    const failed = await inReview(u.id, { error: "schema_invalid: turns[2].role must be user (100% sure)" });
    const truncatedRow = await inReview(u.id, { truncated: true });
    const partialAttempt = await inReview(u.id, { outcome: "partial", partial: { turns: [] } });
    await inReview(u.id, { createdAt: "2020-01-01T00:00:00Z", error: "schema_invalid: 100 percent" });
    const ids = async (q: string) => (await list(u.id, q)).items.map((i) => i.item.conversation_id).sort();
    assert.deepEqual(await ids("status=partial"), [partialAttempt, truncatedRow].sort());
    assert.ok((await ids("status=failed")).includes(failed));
    assert.equal((await ids("status=failed")).includes(truncatedRow), false);
    assert.deepEqual(await ids("error=100%25"), [failed], "% matches only itself");
    assert.deepEqual(await ids("error=ROLE%20MUST"), [failed], "case-insensitive");
    assert.equal((await ids("since=2025-01-01T00:00:00Z")).length, 3);
  },
);

stackTest(
  "review_repo.get() returns the row, attempts oldest first, and the newest partial result",
  async () => {
    const u = await createTestUser();
    const id = await inReview(u.id, { outcome: "partial", partial: { turns: [{ turn_number: 1 }] } });
    const bundle = await repo().get({ userId: u.id }, id);
    assert.ok(bundle);
    assert.equal(bundle.item.raw_response_size, 4096);
    assert.equal(bundle.attempts.length, 1);
    assert.deepEqual(bundle.partial?.conversation, { turns: [{ turn_number: 1 }] });
    assert.match(bundle.item.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const other = await createTestUser();
    assert.equal(
      await repo().get({ userId: other.id }, id),
      null,
      "another user's row does not exist for them",
    );
  },
);

stackTest(
  "review_repo.resolve() rolls back when the final upload fails, and serialises concurrent resolves",
  async () => {
    const u = await createTestUser();
    const id = await inReview(u.id);
    const input = { reviewedBy: u.id, notes: null, parserVersion: "2026.11.1", now: new Date() };
    const written: WrittenFinal = {
      filePath: `${u.id}/${id}/conversation.json`,
      fileSize: 10,
      turnCount: 2,
      conversationName: "n",
    };
    await assert.rejects(
      repo().resolve({ userId: u.id }, id, input, () => Promise.reject(new Error("storage down"))),
      /storage down/,
    );
    const [after] =
      await sql()`select processing_status from public.conversations where conversation_id = ${id}`;
    assert.equal(after.processing_status, "parse_failed", "nothing written when the upload failed");

    let uploads = 0;
    const slowUpload = async () => {
      uploads++;
      await new Promise((r) => setTimeout(r, 150));
      return written;
    };
    const [a, b] = await Promise.all([
      repo().resolve({ userId: u.id }, id, input, slowUpload),
      repo().resolve({ userId: null }, id, input, slowUpload),
    ]);
    assert.deepEqual([a, b].sort(), [null, "not_in_review"].sort(), "one wins, the other finds it resolved");
    assert.equal(uploads, 1, "the loser never uploads: it waited on the row lock");
    const attempts = await sql()`
    select count(*)::int as n from public.conversation_parse_attempts where conversation_id = ${id} and method = 'manual'`;
    assert.equal(attempts[0].n, 1);
  },
);
