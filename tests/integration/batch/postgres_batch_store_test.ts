/**
 * The batch store against the real local PostgreSQL: the guarded transitions of a batch and of its
 * `batch_queued` conversations, idempotent inserts, re-queue, stale submits and the budget settled once.
 */
import assert from "node:assert/strict";
import { postgresBatchStore } from "../../../shared/adapters/postgres_batch_store.ts";
import { createTestUser as newUser, sql, stackTest } from "../../support/stack.ts";

/** A fresh user whose batches are closed when the test ends (the stack's own collector must not poll them). */
const users: string[] = [];
async function createTestUser() {
  const u = await newUser();
  users.push(u.id);
  return u;
}

/** A submitted batch that ended with these counts, its results file recorded (no parts: the store test's own). */
async function endWithResults(
  store: ReturnType<typeof postgresBatchStore>,
  batchId: string,
  counts: { succeeded?: number; expired?: number },
  shaChar: string,
): Promise<void> {
  await store.markSubmitted(batchId, {
    id: "msgbatch_t_" + batchId,
    expiresAt: new Date(),
    createdAt: new Date(),
  });
  const c = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0, ...counts };
  await store.recordPoll(batchId, "ended", c, new Date());
  const lines = c.succeeded + c.expired;
  await store.recordResults(batchId, { sha256: shaChar.repeat(64), size: 1, lines, parts: [] });
}

stackTest(
  "postgres batch store: markLost fails an open batch and its queued conversations, once",
  async () => {
    const store = postgresBatchStore(sql());
    const user = await createTestUser();
    const b = newBatch(user.id);
    const convs = [conv(user.id)];
    await store.insertBatch(b, convs);
    await store.markSubmitted(b.batchId, {
      id: "msgbatch_t_" + b.batchId,
      expiresAt: new Date(),
      createdAt: new Date(),
    });
    assert.equal(await store.markLost(b.batchId, "batch_not_found: test"), 1);
    assert.equal(await store.markLost(b.batchId, "batch_not_found: test"), 0);
  },
);
import { batchConversation as conv, newBatch } from "./_helpers.ts";

const record = (sha: string) => ({
  rawSha256: sha,
  stopReason: "end_turn",
  model: "claude-sonnet-4-5",
  inputTokens: 100,
  outputTokens: 200,
  costUsd: 0.00165,
  truncated: false,
  attempts: 1,
});

stackTest(
  "postgres batch store: insert, submit, poll, results, split and collect, each guarded",
  async () => {
    const store = postgresBatchStore(sql());
    const user = await createTestUser();
    const b = newBatch(user.id, { idempotencyKey: "k-" + crypto.randomUUID() });
    const convs = [conv(user.id), conv(user.id), conv(user.id)];
    assert.deepEqual(await store.insertBatch(b, convs), { inserted: true });
    const again = await store.insertBatch({ ...b, batchId: crypto.randomUUID() }, [conv(user.id)]);
    assert.equal(again.inserted, false, "the same Idempotency-Key finds the first batch");
    const [row] = await sql()`select processing_status, source, batch_id::text from public.conversations
                             where conversation_id = ${convs[0].conversationId}`;
    assert.deepEqual(row, { processing_status: "batch_queued", source: "generated", batch_id: b.batchId });

    assert.equal(
      await store.markSubmitted(b.batchId, {
        id: "msgbatch_t_" + b.batchId,
        expiresAt: new Date(),
        createdAt: new Date(),
      }),
      true,
    );
    assert.equal(
      await store.markSubmitted(b.batchId, { id: "x", expiresAt: new Date(), createdAt: new Date() }),
      false,
    );
    await store.recordPoll(b.batchId, "ended", {
      processing: 0,
      succeeded: 2,
      errored: 1,
      canceled: 0,
      expired: 0,
    }, new Date());
    const parts = [{ path: "p/part-0001.jsonl", sha256: "c".repeat(64), size: 10, lines: 3 }];
    const rec = await store.recordResults(b.batchId, { sha256: "d".repeat(64), size: 10, lines: 3, parts });
    assert.equal(rec?.state, "results_stored");
    const second = await store.recordResults(b.batchId, {
      sha256: "e".repeat(64),
      size: 10,
      lines: 3,
      parts,
    });
    assert.equal(second?.resultsSha256, "d".repeat(64), "the first results file stays the record");

    const ids = await store.recordSucceeded(b.batchId, [
      { conversationId: convs[0].conversationId, record: record("f".repeat(64)) },
    ]);
    assert.deepEqual(ids, [convs[0].conversationId]);
    assert.equal(
      await store.markFailed(b.batchId, [{
        conversationId: convs[1].conversationId,
        error: "batch_errored: x",
      }]),
      1,
    );
    assert.equal(
      await store.markFailed(b.batchId, [{ conversationId: convs[1].conversationId, error: "again" }]),
      0,
    );
    assert.deepEqual(
      [...await store.knownAnthropicIds(["msgbatch_t_" + b.batchId, "msgbatch_nobody"])],
      ["msgbatch_t_" + b.batchId],
    );
    const listed = await store.conversations(b.batchId);
    assert.equal(listed.length, 3);
    const snaps = await store.snapshots([convs[0].conversationId]);
    assert.equal(snaps.get(convs[0].conversationId)?.max_tokens, 4000, "a re-queue reads the snapshot by id");
    const view = await store.get(b.batchId, user.id);
    assert.deepEqual(view?.conversation_counts, { batch_queued: 2, generation_failed: 1 });
    assert.equal(await store.get(b.batchId, crypto.randomUUID()), null, "another user's batch is not found");

    assert.equal(
      await store.markCollected(b.batchId, { counts: { succeeded: 1 }, missing: 0, unknown: 0 }),
      true,
    );
    assert.equal(
      await store.markCollected(b.batchId, { counts: { succeeded: 1 }, missing: 0, unknown: 0 }),
      false,
    );
    assert.equal((await store.list(user.id, 10))[0].state, "collected");
  },
);

stackTest(
  "postgres batch store: a failed submit fails its conversations; re-queue moves the expired ones",
  async () => {
    const store = postgresBatchStore(sql());
    const user = await createTestUser();
    const b = newBatch(user.id);
    const convs = [conv(user.id), conv(user.id)];
    await store.insertBatch(b, convs);
    await store.markSubmitted(b.batchId, {
      id: "msgbatch_t_" + b.batchId,
      expiresAt: new Date(),
      createdAt: new Date(),
    });
    const moved = await store.insertRequeue(
      newBatch(user.id, { requeueOf: b.batchId, requeueDepth: 1, requestCount: 1 }),
      [
        convs[0].conversationId,
      ],
    );
    assert.equal(moved.moved, 1);
    assert.equal(moved.tokensCarried, 0, "nothing reserved, nothing carried");
    assert.equal(
      (await store.conversations(b.batchId)).length,
      2,
      "the re-queued one is still known to its first batch",
    );

    const c = newBatch(user.id);
    const cc = [conv(user.id)];
    await store.insertBatch(c, cc);
    assert.equal(await store.markSubmitFailed(c.batchId, "batch_not_submitted: test"), 1);
    const [row] = await sql()`select processing_status, generation_error from public.conversations
                             where conversation_id = ${cc[0].conversationId}`;
    assert.deepEqual(row, {
      processing_status: "generation_failed",
      generation_error: "batch_not_submitted: test",
    });
  },
);

stackTest("postgres batch store: a reserved budget is settled to the output tokens used, once", async () => {
  const store = postgresBatchStore(sql());
  const user = await createTestUser();
  const r = await store.reserve({ userId: user.id, requests: 2, tokens: 8000, isService: false });
  assert.ok(r.allowed && r.tokensCharged);
  const b = newBatch(user.id, { tokensReserved: 8000, tokensWindowStart: r.tokensWindowStart });
  const convs = [conv(user.id), conv(user.id)];
  await store.insertBatch(b, convs);
  await endWithResults(store, b.batchId, { succeeded: 2 }, "d");
  await store.recordSucceeded(
    b.batchId,
    convs.map((c) => ({ conversationId: c.conversationId, record: record("f".repeat(64)) })),
  );
  await store.markCollected(b.batchId, { counts: {}, missing: 0, unknown: 0 });
  const [{ used }] = await sql()`select used::int from private.usage_counters
                                  where user_id = ${user.id} and limit_name = 'generate_output_tokens_per_day'`;
  assert.equal(used, 400, "8000 reserved, 2 × 200 used");
});

stackTest(
  "postgres batch store: a re-queue carries the expired requests' reservation; only the new batch gives it back",
  async () => {
    const store = postgresBatchStore(sql());
    const user = await createTestUser();
    const maxTokens = Number((conv(user.id).snapshot as { max_tokens?: unknown }).max_tokens);
    const reserved = 2 * maxTokens;
    const r = await store.reserve({ userId: user.id, requests: 2, tokens: reserved, isService: false });
    assert.ok(r.allowed && r.tokensCharged);
    const used = async () =>
      Number(
        (await sql()`select used::int from private.usage_counters
                           where user_id = ${user.id} and limit_name = 'generate_output_tokens_per_day'`)[0]
          .used,
      );
    assert.equal(await used(), reserved);
    const b = newBatch(user.id, { tokensReserved: reserved, tokensWindowStart: r.tokensWindowStart });
    const convs = [conv(user.id), conv(user.id)];
    await store.insertBatch(b, convs);
    await endWithResults(store, b.batchId, { succeeded: 1, expired: 1 }, "d");
    await store.recordSucceeded(b.batchId, [{
      conversationId: convs[0].conversationId,
      record: record("f".repeat(64)),
    }]);
    // convs[1] expired: re-queued with its max_tokens carried, in the same usage window.
    const nb = newBatch(user.id, { requeueOf: b.batchId, requeueDepth: 1, requestCount: 1 });
    const out = await store.insertRequeue(nb, [convs[1].conversationId]);
    assert.equal(out.moved, 1);
    assert.equal(out.tokensCarried, maxTokens);
    assert.equal(out.tokensWindowStart?.getTime(), r.tokensWindowStart!.getTime());
    const rows = await sql()`select id::text, tokens_reserved::int from public.generation_batches
                              where id in (${b.batchId}, ${nb.batchId}) order by requeue_depth`;
    assert.deepEqual(rows.map((x) => x.tokens_reserved), [maxTokens, maxTokens]);
    // The original batch settles without the carried part: only convs[0]'s unused tokens come back.
    await store.markCollected(b.batchId, { counts: {}, missing: 0, unknown: 0 });
    assert.equal(
      await used(),
      maxTokens + 200,
      "convs[0] used 200 of its reservation; convs[1]'s is still held",
    );
    // The re-queued batch ends; its settlement gives back what convs[1] did not use.
    await endWithResults(store, nb.batchId, { succeeded: 1 }, "e");
    await store.recordSucceeded(nb.batchId, [{
      conversationId: convs[1].conversationId,
      record: record("f".repeat(64)),
    }]);
    await store.markCollected(nb.batchId, { counts: {}, missing: 0, unknown: 0 });
    assert.equal(await used(), 400, "2 × 200 used in all: the re-queue ran inside the caller's budget");
  },
);

stackTest(
  "postgres batch store: a submit that never got its Anthropic id is failed after the stale delay",
  async () => {
    const store = postgresBatchStore(sql());
    const user = await createTestUser();
    const b = newBatch(user.id);
    const convs = [conv(user.id)];
    await store.insertBatch(b, convs);
    await sql()`update public.generation_batches set created_at = now() - interval '1 hour' where id = ${b.batchId}`;
    const stale = await store.staleSubmits(15 * 60_000);
    assert.ok(
      stale.some((s) => s.batchId === b.batchId && s.requestCount === 3),
      "listed before it is failed",
    );
    assert.ok(
      !(await store.staleSubmits(2 * 3_600_000)).some((s) => s.batchId === b.batchId),
      "not yet that old",
    );
    assert.ok(await store.failStaleSubmits(15 * 60_000) >= 1);
    const [row] = await sql()`select processing_status from public.conversations
                             where conversation_id = ${convs[0].conversationId}`;
    assert.equal(row.processing_status, "generation_failed");
  },
);

stackTest("postgres batch store: (cleanup) the test batches are closed", async () => {
  for (const id of users) {
    await sql()`update public.conversations set processing_status = 'generation_failed', generation_error = 'test'
                 where user_id = ${id} and processing_status = 'batch_queued'`;
    await sql()`update public.generation_batches set state = 'failed' where user_id = ${id}
                  and state not in ('collected', 'failed')`;
  }
});
