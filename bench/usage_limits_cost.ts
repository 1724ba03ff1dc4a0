/**
 * What the per-user limits cost a generate request: the reservation before the flow
 * (`private.reserve_generation`) and the settlement after it (`private.release_usage`), through the same
 * adapter and the same postgres.js settings the function uses, against the local stack's PostgreSQL.
 *
 *   deno task bench:limits [--requests 2000] [--concurrency 1,10,50] [--users 10]
 *
 * Each measured unit is one request's whole overhead: reserve (max_tokens 24576) + settle (give back 22000).
 * Interleaved with it, the same number of baseline units: two `select 1` round trips on the same pool — the
 * least any two database calls cost on this machine at that moment. On a shared, loaded machine the absolute
 * figures swing with the load; the difference between the two columns is the limits' own cost.
 * With `--users` 10 and concurrency 50, five requests at a time race on each user's counter rows (the worst
 * case: the row lock serialises them). The users' limits are lifted (unlimited rows of their own), so every
 * reservation is granted and counted, like a user well inside the limits. Results: docs/BENCHMARKS.md,
 * "Per-user limits".
 */
import { parseCli } from "../local/parse_cli.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { postgresUsageLimiter } from "../shared/adapters/postgres_usage_limiter.ts";
import { settleTokens } from "../shared/generate/usage_budget.ts";
import { closeSql, createTestUser, sql, stackEnv } from "../tests/support/stack.ts";

const { values } = parseCli("bench:limits", import.meta.url, {
  requests: { type: "string", default: "2000" },
  concurrency: { type: "string", default: "1,10,50" },
  users: { type: "string", default: "10" },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const requests = Number(values.requests);
const users: string[] = [];
for (let i = 0; i < Number(values.users); i++) {
  const u = await createTestUser();
  // Counted but never refused: a row of their own with a limit far above what the run uses.
  for (const limit of ["generate_requests_per_minute", "generate_output_tokens_per_day"]) {
    await sql()`insert into private.usage_limits (limit_name, user_id, max_amount) values (${limit}, ${u.id}, 1e15)`;
  }
  users.push(u.id);
}
const db = createSql(stackEnv().SUPABASE_DB_URL, { max: 4 });
const limiter = postgresUsageLimiter(db);

console.log(
  "| concurrency | requests | p50 ms | p95 ms | p99 ms | baseline p50 ms | baseline p95 ms | p50 − baseline |",
);
console.log(
  "| ----------- | -------- | ------ | ------ | ------ | --------------- | --------------- | -------------- |",
);
for (const level of String(values.concurrency).split(",").map(Number)) {
  const times: number[] = [];
  const base: number[] = [];
  let next = 0;
  const baseline = async () => {
    const t0 = performance.now();
    await db`select 1`;
    await db`select 1`;
    return performance.now() - t0;
  };
  const one = async (i: number) => {
    const userId = users[i % users.length];
    const t0 = performance.now();
    const r = await limiter.reserveGeneration({ userId, maxTokens: 24576, isService: false });
    if (!r.allowed) throw new Error("a reservation was refused: the bench users' limits were not lifted");
    await settleTokens(limiter, r, { userId, reserved: 24576, used: 2576 });
    return performance.now() - t0;
  };
  // Warm-up: connections open, plans cached.
  for (let i = 0; i < 50; i++) await one(i);
  await Promise.all(Array.from({ length: level }, async () => {
    while (true) {
      const i = next++;
      if (i >= requests) return;
      times.push(await one(i));
      base.push(await baseline());
    }
  }));
  times.sort((a, b) => a - b);
  base.sort((a, b) => a - b);
  const f = (x: number) => x.toFixed(2);
  console.log(
    `| ${level} | ${times.length} | ${f(percentile(times, 50))} | ${f(percentile(times, 95))} | ${
      f(percentile(times, 99))
    } | ${f(percentile(base, 50))} | ${f(percentile(base, 95))} | ${
      f(percentile(times, 50) - percentile(base, 50))
    } |`,
  );
}
await sql()`delete from private.usage_limits where user_id = any(${users}::uuid[])`;
await db.end();
await closeSql();
