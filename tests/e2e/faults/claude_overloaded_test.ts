/**
 * Fault 4: a 529 storm from Claude (docs/FAULTS.md).
 *
 * generate-conversation retries 408/409/429/5xx (529 included) with exponential backoff (500 ms · 2ⁿ, capped,
 * minus jitter), honouring `retry-after` when the API sends one, `CLAUDE_MAX_RETRIES` (3) times. Three storms:
 *   - one that passes while the retries are running: the next attempt succeeds, 201, completed;
 *   - one that outlasts every retry: 503 `upstream_unavailable` naming the conversation, the row
 *     generation_failed with the error and the attempts, and nothing else written (no sha256, object or spool row);
 *   - 429s with `retry-after`: the wait between attempts is the server's, not the backoff's.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  assertNothingLost,
  generate,
  generateMany,
  healStack,
  report,
  roundMs,
  setStandinBehavior,
  settle,
  waitUntil,
} from "../../support/faults.ts";
import { createTestUser, sql, stackTest, standinAdmin } from "../../support/stack.ts";

const standinRequest = z.object({
  at: z.string(),
  outcome: z.string(),
  headers: z.record(z.string(), z.string()),
}).loose();

/** The stand-in's calls for one conversation (generate sends the conversation id as `x-standin-seed`). */
async function claudeCalls(
  conversationIds: readonly string[],
): Promise<Map<string, { at: number; outcome: string }[]>> {
  const recent = z.array(standinRequest).parse(await standinAdmin("requests"));
  const out = new Map<string, { at: number; outcome: string }[]>(conversationIds.map((id) => [id, []]));
  for (const r of recent) {
    out.get(r.headers["x-standin-seed"] ?? "")?.push({ at: Date.parse(r.at), outcome: r.outcome });
  }
  return out;
}

/** Conversation ids of the user's rows, oldest first. */
async function rowIds(userId: string): Promise<string[]> {
  const rows =
    await sql()`select conversation_id::text as id from public.conversations where user_id = ${userId}`;
  return rows.map((r) => String(r.id));
}

stackTest(
  "fault: a 529 storm that passes during the retries → the next attempt succeeds, completed",
  async () => {
    const user = await createTestUser();
    const N = 4;
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    let stormMs = 0;
    try {
      await setStandinBehavior("overloaded");
      const started = performance.now();
      const inFlight = generateMany(user.id, N, { respondAsync: true });
      // The storm ends once every generation has been refused twice (the backoff then waits ~1 s, then ~2 s).
      await waitUntil(async () => {
        const ids = await rowIds(user.id);
        if (ids.length < N) return false;
        const calls = await claudeCalls(ids);
        return [...calls.values()].every((c) => c.filter((x) => x.outcome === "overloaded").length >= 2);
      }, "every generation to be refused twice");
      await setStandinBehavior("clean");
      stormMs = performance.now() - started;
      answers = await inFlight;
    } finally {
      await healStack();
    }
    assert.deepEqual(answers.map((a) => a.status), answers.map(() => 201), "every generation got through");
    const recovery = await settle(user.id);
    const rows = await assertNothingLost(user.id, answers);
    assert.deepEqual(rows.map((r) => r.processing_status), answers.map(() => "completed"));
    const [att] = await sql()`
    select min(generation_attempts)::int as min, max(generation_attempts)::int as max
      from public.conversations where user_id = ${user.id}`;
    assert.ok(att.min >= 3 && att.max <= 4, `two or three refusals, then success: ${JSON.stringify(att)}`);
    report("claude_529_storm_passing", {
      generations: N,
      storm_ms: roundMs(stormMs),
      answer_ms_max: roundMs(Math.max(...answers.map((a) => a.ms))),
      attempts: [att.min, att.max],
      settle_ms: roundMs(recovery.ms),
    });
  },
);

stackTest(
  "fault: a 529 storm that outlasts the retries → 503 with the conversation, generation_failed, nothing half-written",
  async () => {
    const user = await createTestUser();
    const N = 3;
    let answers: Awaited<ReturnType<typeof generateMany>> = [];
    try {
      await setStandinBehavior("overloaded");
      answers = await generateMany(user.id, N);
    } finally {
      await healStack();
    }
    for (const a of answers) {
      assert.equal(a.status, 503);
      assert.equal(a.errorCode, "upstream_unavailable");
      assert.ok(a.conversationId, "the answer names the conversation, so the client can look it up");
    }
    const rows = await assertNothingLost(user.id, answers);
    assert.deepEqual(rows.map((r) => r.processing_status), answers.map(() => "generation_failed"));
    const [att] = await sql()`
    select min(generation_attempts)::int as min, max(generation_attempts)::int as max,
           bool_and(generation_error::text like '%529%' or generation_error::text like '%overloaded%') as says_why,
           bool_and(raw_response_path is null and parse_attempts = 0) as untouched
      from public.conversations where user_id = ${user.id}`;
    assert.deepEqual([att.min, att.max], [4, 4], "the first call and three retries");
    assert.equal(att.says_why, true, "the error records the overload");
    assert.equal(att.untouched, true, "no raw path, no parse attempt");
    const calls = await claudeCalls(answers.map((a) => a.conversationId!));
    for (const [id, c] of calls) {
      assert.equal(c.length, 4, `${id}: four calls reached Claude`);
      const gaps = c.slice(1).map((x, i) => x.at - c[i].at);
      // Backoff 500 ms · 2ⁿ minus up to 25 % jitter: ≥ 375, 750, 1500 ms.
      assert.ok(
        gaps[0] >= 350 && gaps[1] >= 700 && gaps[2] >= 1400,
        `${id}: exponential backoff ${gaps.join(", ")}`,
      );
    }
    report("claude_529_storm_outlasting", {
      generations: N,
      answer_ms_max: roundMs(Math.max(...answers.map((a) => a.ms))),
    });
  },
);

stackTest("fault: 429s with retry-after → generate waits as told, then succeeds", async () => {
  const user = await createTestUser();
  let answer: Awaited<ReturnType<typeof generate>> | null = null;
  try {
    // Two 429s carrying `retry-after: 2`, then a clean answer. The backoff alone would wait ~0.5 s, then ~1 s.
    await setStandinBehavior("rate_limited:2+fail_then_succeed:2:rate_limited+clean");
    answer = await generate(user.id);
  } finally {
    await healStack();
  }
  assert.equal(answer.status, 201);
  const id = answer.conversationId!;
  const c = (await claudeCalls([id])).get(id)!;
  assert.deepEqual(c.map((x) => x.outcome), ["rate_limited", "rate_limited", "clean"]);
  const gaps = c.slice(1).map((x, i) => x.at - c[i].at);
  assert.ok(gaps.every((g) => g >= 1950), `retry-after: 2 honoured: ${gaps.join(", ")} ms`);
  await settle(user.id);
  await assertNothingLost(user.id, [answer]);
  report("claude_429_retry_after", { gaps_ms: gaps, answer_ms: roundMs(answer.ms) });
});
