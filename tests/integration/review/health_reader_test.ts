/**
 * shared/adapters/postgres_health_reader.ts against the migrated database: alerts split into open and past (newest
 * first, past limited), and conversations counted per source and status with the in-review share.
 */
import assert from "node:assert/strict";
import { createSql } from "../../../shared/adapters/postgres_sql.ts";
import { postgresHealthReader } from "../../../shared/adapters/postgres_health_reader.ts";
import { sql, stackEnv, stackTest } from "../../support/stack.ts";

const pool = createSql(stackEnv().SUPABASE_DB_URL, { max: 2 });
const reader = postgresHealthReader(pool);

stackTest("postgresHealthReader: sourceCounts() matches a direct count per source and status", async () => {
  const counts = await reader.sourceCounts();
  const direct = await sql()`
    select source, processing_status as status, count(*)::int as n,
           (count(*) filter (where requires_manual_review and processing_status = 'parse_failed'))::int as r
      from public.conversations group by 1, 2`;
  assert.equal(counts.length, direct.length);
  for (const d of direct) {
    const c = counts.find((x) => x.source === d.source && x.status === d.status);
    assert.ok(c, `${d.source}/${d.status}`);
    assert.equal(c.count, d.n);
    assert.equal(c.in_review, d.r);
  }
});

stackTest(
  "postgresHealthReader: alerts() lists open ones and at most `pastLimit` resolved ones, newest first",
  async () => {
    const db = sql();
    await db.begin(async (tx) => {
      // Rows written inside a transaction that is rolled back: other tests never see them.
      for (
        const [rule, resolved] of [["t_open", null], ["t_old", "2025-01-01T01:00:00Z"], [
          "t_new",
          "2025-01-02T01:00:00Z",
        ]]
      ) {
        await tx`
        insert into public.alerts (rule, severity, fired_at, resolved_at, value, peak_value, threshold, last_evaluated_at,
                                   notice, notice_value, notice_queued_at)
        values (${rule}, 'warning', '2025-01-01T00:00:00Z', ${resolved}, 1, 2, 1, now(),
                ${resolved === null ? "fired" : "resolved"}, 2, now())`;
      }
      const r = postgresHealthReader(tx as unknown as typeof pool);
      const all = await r.alerts(50);
      assert.ok(all.open.some((a) => a.rule === "t_open" && a.resolved_at === null && a.peak_value === 2));
      const past = all.past.filter((a) => a.rule.startsWith("t_")).map((a) => a.rule);
      assert.deepEqual(past, ["t_new", "t_old"]);
      assert.ok((await r.alerts(1)).past.length <= 1);
      throw new Error("rollback");
    }).catch((e) => {
      if (!(e instanceof Error) || e.message !== "rollback") throw e;
    });
    await pool.end();
  },
);
