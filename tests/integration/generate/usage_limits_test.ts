/**
 * Per-user budgets against the real stack (docs/SECURITY.md, "Budgets and rate limits"):
 * - the last unit of a limit, raced by many connections at once, goes to exactly one (real, separate
 *   PostgreSQL connections, each in its own transaction);
 * - generate-conversation over a limit answers 429 with Retry-After and the limit and reset in its body, and
 *   writes nothing and calls no Claude (counted on the stand-in);
 * - a token reservation is settled to the usage the stand-in reported;
 * - a user's uploads to raw/ through the Storage API stop at the hourly limit with an AccessDenied naming it,
 *   and the refused object is not stored.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  createTestUser,
  functionsUrl,
  sql,
  stackEnv,
  stackTest,
  standinAdmin,
  userClient,
} from "../../support/stack.ts";
import { ensurePipelineSecrets, SEED_BODY } from "./_helpers.ts";

async function setUserLimit(userId: string, limit: string, max: number | null): Promise<void> {
  await sql()`
    insert into private.usage_limits (limit_name, user_id, max_amount)
    values (${limit}, ${userId}, ${max})
    on conflict on constraint usage_limits_one_row_per_user do update set max_amount = excluded.max_amount`;
}

async function used(userId: string, limit: string): Promise<number> {
  const [row] = await sql()<{ used: string }[]>`
    select used::text from private.usage_counters where user_id = ${userId} and limit_name = ${limit}`;
  return row ? Number(row.used) : 0;
}

function generate(token: string, body: Record<string, unknown> = SEED_BODY): Promise<Response> {
  return fetch(functionsUrl("generate-conversation"), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      prefer: "respond-async",
    },
    body: JSON.stringify(body),
  });
}

async function standinUsage(userId: string): Promise<{ requests: number; output_tokens: number }> {
  const all = await standinAdmin("usage") as Record<string, { requests: number; output_tokens: number }>;
  return all[userId] ?? { requests: 0, output_tokens: 0 };
}

stackTest("usage limits: 12 connections race for the last 3 units and exactly 3 win", async () => {
  const user = await createTestUser();
  await setUserLimit(user.id, "raw_uploads_per_hour", 5);
  await sql()`select private.consume_usage(${user.id}::uuid, 'raw_uploads_per_hour', 2)`;
  const conns = Array.from(
    { length: 12 },
    () => postgres(stackEnv().SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} }),
  );
  try {
    // Open every connection first, so the calls really overlap.
    await Promise.all(conns.map((c) => c`select 1`));
    const results = await Promise.all(conns.map((c) =>
      c.begin(async (tx) => {
        const [r] = await tx<{ allowed: boolean }[]>`
          select allowed from private.consume_usage(${user.id}::uuid, 'raw_uploads_per_hour', 1)`;
        // Hold the transaction open a little, so later callers queue on the row lock.
        await tx`select pg_sleep(0.02)`;
        return r.allowed;
      })
    ));
    assert.equal(results.filter((x) => x).length, 3);
    assert.equal(await used(user.id, "raw_uploads_per_hour"), 5);
  } finally {
    await Promise.all(conns.map((c) => c.end({ timeout: 2 })));
  }
});

stackTest("usage limits: concurrent generate reservations never pass the token budget", async () => {
  const user = await createTestUser();
  await setUserLimit(user.id, "generate_output_tokens_per_day", 10_000);
  const conns = Array.from(
    { length: 8 },
    () => postgres(stackEnv().SUPABASE_DB_URL, { max: 1, prepare: false, onnotice: () => {} }),
  );
  try {
    await Promise.all(conns.map((c) => c`select 1`));
    const results = await Promise.all(conns.map(async (c) => {
      const [r] = await c<{ allowed: boolean }[]>`
        select allowed from private.reserve_generation(${user.id}::uuid, 3000)`;
      return r.allowed;
    }));
    assert.equal(results.filter((x) => x).length, 3, "3 × 3000 fit in 10,000; the fourth does not");
    assert.equal(await used(user.id, "generate_output_tokens_per_day"), 9000);
    assert.equal(await used(user.id, "generate_requests_per_minute"), 3, "refused reservations keep no unit");
  } finally {
    await Promise.all(conns.map((c) => c.end({ timeout: 2 })));
  }
});

stackTest(
  "generate-conversation: over the per-minute limit → 429 with Retry-After, no row, no Claude call",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    await setUserLimit(user.id, "generate_requests_per_minute", 1);
    const first = await generate(user.token);
    assert.equal(first.status, 201, await first.clone().text());
    const { conversation_id } = await first.json();
    const before = await standinUsage(user.id);
    const second = await generate(user.token);
    assert.equal(second.status, 429);
    const retryAfter = Number(second.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const json = await second.json();
    assert.equal(json.error.code, "rate_limited");
    assert.equal(json.error.limit, "generate_requests_per_minute");
    assert.equal(json.error.max, 1);
    assert.ok(Date.parse(json.error.reset_at) > Date.now() - 1000);
    const rows = await sql()<{ conversation_id: string }[]>`
    select conversation_id::text from public.conversations where user_id = ${user.id}`;
    assert.deepEqual(
      rows.map((r) => r.conversation_id),
      [conversation_id],
      "the refused request wrote no row",
    );
    assert.deepEqual(await standinUsage(user.id), before, "and reached no Claude");
  },
);

stackTest(
  "generate-conversation: the token reservation is settled to the stand-in's reported usage",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    const res = await generate(user.token, { ...SEED_BODY, max_tokens: 20_000 });
    assert.equal(res.status, 201, await res.clone().text());
    const spent = await standinUsage(user.id);
    assert.equal(spent.requests, 1);
    assert.ok(spent.output_tokens > 0 && spent.output_tokens < 20_000);
    assert.equal(await used(user.id, "generate_output_tokens_per_day"), spent.output_tokens);
  },
);

stackTest(
  "generate-conversation: max_tokens beyond the day's budget → 429 naming the token limit",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    await setUserLimit(user.id, "generate_output_tokens_per_day", 5000);
    const res = await generate(user.token, { ...SEED_BODY, max_tokens: 6000 });
    assert.equal(res.status, 429);
    const json = await res.json();
    assert.equal(json.error.limit, "generate_output_tokens_per_day");
    assert.equal(await used(user.id, "generate_requests_per_minute"), 0);
  },
);

stackTest(
  "raw uploads: the Storage API refuses a user's upload past raw_uploads_per_hour, naming the limit",
  async () => {
    const user = await createTestUser();
    await setUserLimit(user.id, "raw_uploads_per_hour", 2);
    const storage = userClient(user.token).storage.from("conversation-files");
    const names: string[] = [];
    const outcomes: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const name = `raw/${user.id}/${crypto.randomUUID()}.json`;
      names.push(name);
      const { error } = await storage.upload(name, new TextEncoder().encode('{"x":1}'), {
        contentType: "application/json",
      });
      outcomes.push(error ? `${(error as { statusCode?: string }).statusCode} ${error.message}` : null);
    }
    assert.equal(outcomes[0], null);
    assert.equal(outcomes[1], null);
    assert.match(outcomes[2] ?? "", /^403 Cannot upload: raw_uploads_per_hour limit reached \(2 allowed/);
    const stored = await sql()<{ name: string }[]>`
    select name from storage.objects where bucket_id = 'conversation-files' and name = any(${names})`;
    assert.deepEqual(stored.map((r) => r.name).sort(), names.slice(0, 2).sort());
    assert.equal(await used(user.id, "raw_uploads_per_hour"), 2);
  },
);
