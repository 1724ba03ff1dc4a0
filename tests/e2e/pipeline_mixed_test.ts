/**
 * Done-when of the parse-conversation issue: 1,000 generations with the Claude stand-in's `mixed` behaviour
 * (mostly clean, plus fenced, prose-wrapped, damaged, truncated, refused, empty, rate-limited, overloaded, failing
 * and cut streams) end with every conversation `completed` or `parse_failed` — none stuck, none lost:
 * raw objects = rows = 1,000.
 *
 * Through the real path: generate-conversation (service key + x-user-id, the checklist's smoke-test form) →
 * Claude stand-in → raw upload → trigger → pg_net → parse-conversation. The sweeper is called directly (as pg_cron
 * would, once a minute) while anything is still in flight, so a lost wake-up costs seconds, not a minute.
 * E2E_GENERATIONS (default 1000) and E2E_CONCURRENCY (default 16) size the run.
 */
import assert from "node:assert/strict";
import { CONVERSATION_BUCKET } from "../../shared/pipeline/object_store.ts";
import {
  closePipeline,
  createUser,
  db,
  ensureSecrets,
  stackEnv,
  sweep,
} from "../integration/parse/_pipeline.ts";

const N = Number(Deno.env.get("E2E_GENERATIONS") ?? 1000);
const CONCURRENCY = Number(Deno.env.get("E2E_CONCURRENCY") ?? 16);

/** Fixed scaffolding ids from supabase/seed.sql (docs/DATABASE.md). */
const BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

async function setStandinDefault(behavior: string | null): Promise<void> {
  const res = await fetch(`${stackEnv().ANTHROPIC_BASE_URL}/__admin/behavior`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behavior }),
  });
  assert.equal(res.status, 200, await res.text());
}

Deno.test({
  name: `e2e: ${N} mixed generations all end completed or parse_failed, raw objects = rows = ${N}`,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await ensureSecrets();
    const user = await createUser();
    const env = stackEnv();
    const started = performance.now();
    const answers: { status: number; conversationId: string | null; error: string | null }[] = [];
    await setStandinDefault("mixed");
    try {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) {
          next++;
          const res = await fetch(`${env.SUPABASE_URL}/functions/v1/generate-conversation`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`,
              "x-user-id": user,
              "content-type": "application/json",
            },
            body: JSON.stringify(BODY),
          });
          const json = await res.json().catch(() => ({}));
          answers.push({
            status: res.status,
            conversationId: json.conversation_id ?? json.error?.conversation_id ?? null,
            error: json.error?.code ?? null,
          });
        }
      }));
    } finally {
      await setStandinDefault(null);
    }
    const generated = performance.now();

    // Let the pipeline settle; sweep while anything is still on its way.
    const counts = async () =>
      Object.fromEntries(
        (await db()`select processing_status, count(*)::int as n from public.conversations
                     where user_id = ${user} group by 1`).map((
          r,
        ) => [String(r.processing_status), Number(r.n)]),
      ) as Record<string, number>;
    let byStatus = await counts();
    let sweeps = 0;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const inFlight = Object.entries(byStatus)
        .filter(([s]) => s !== "completed" && s !== "parse_failed")
        .reduce((n, [, c]) => n + c, 0);
      if (inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 1000));
      await sweep(200);
      sweeps++;
      byStatus = await counts();
    }
    const settled = performance.now();

    const [objects] = await db()`
      select count(*)::int as raw,
             (select count(*)::int from storage.objects f
               where f.bucket_id = ${CONVERSATION_BUCKET} and f.name like ${`${user}/%/conversation.json`}) as final
        from storage.objects o
       where o.bucket_id = ${CONVERSATION_BUCKET} and o.name like ${`raw/${user}/%`}`;
    const [rows] = await db()`
      select count(*)::int as rows,
             count(*) filter (where processing_status = 'completed' and file_path is not null
                              and requires_manual_review is false)::int as completed_ok,
             count(*) filter (where processing_status = 'parse_failed' and requires_manual_review
                              and parse_error_message is not null)::int as review_ok,
             count(*) filter (where not exists (select 1 from public.conversation_parse_attempts a
                                                where a.conversation_id = c.conversation_id))::int as no_attempt
        from public.conversations c where user_id = ${user}`;
    const methods = await db()`
      select coalesce(parse_method_used, split_part(parse_error_message, ':', 1)) as k, count(*)::int as n
        from public.conversations where user_id = ${user} group by 1 order by 2 desc`;
    const statuses = answers.reduce<Record<string, number>>((m, a) => {
      const k = `${a.status}${a.error ? `:${a.error}` : ""}`;
      m[k] = (m[k] ?? 0) + 1;
      return m;
    }, {});
    console.log(JSON.stringify({
      generations: N,
      http: statuses,
      rows: byStatus,
      outcomes: Object.fromEntries(methods.map((m) => [String(m.k), Number(m.n)])),
      raw_objects: objects.raw,
      final_files: objects.final,
      sweeps,
      generate_s: Math.round(generated - started) / 1000,
      settle_s: Math.round(settled - generated) / 1000,
    }));

    // None lost: every answer names a conversation that exists, one row and one raw object per generation.
    assert.equal(answers.length, N);
    assert.deepEqual(statuses, { "201": N }, "every generation was accepted and stored");
    const ids = new Set(answers.map((a) => a.conversationId));
    assert.equal(ids.size, N, "every answer names its own conversation");
    assert.equal(rows.rows, N, "rows = generations");
    assert.equal(objects.raw, N, "raw objects = generations");
    // None stuck: every row is in a final state, consistently.
    assert.equal((byStatus.completed ?? 0) + (byStatus.parse_failed ?? 0), N, JSON.stringify(byStatus));
    assert.equal(
      rows.completed_ok,
      byStatus.completed ?? 0,
      "every completed row has its file and no review flag",
    );
    assert.equal(
      rows.review_ok,
      byStatus.parse_failed ?? 0,
      "every parse_failed row is in review with a reason",
    );
    assert.equal(objects.final, byStatus.completed ?? 0, "one final file per completed conversation");
    assert.equal(rows.no_attempt, 0, "every conversation has its attempts-log row");
    assert.ok((byStatus.completed ?? 0) > N / 2, "mixed is mostly clean");
    assert.ok((byStatus.parse_failed ?? 0) > 0, "and some responses cannot be parsed");
  },
});

Deno.test({
  name: "e2e: close the database pool",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: closePipeline,
});
