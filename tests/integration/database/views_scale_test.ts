/**
 * The monitoring views and the checklist's windowed queries at scale: a scratch database with DB_SCALE_ROWS
 * conversations (default 100 000; docs/DATABASE.md reports 1 000 000) spread over a year, ~2 % in review.
 * Asserts that every query reads its window through an index (no sequential scan of conversations) and prints
 * the measured times. Reproduce the documented figures with:
 *
 *   DB_SCALE_ROWS=1000000 deno test -A tests/integration/database/views_scale_test.ts
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createScratchDb } from "./_scratch_db.ts";

const ROWS = Number(Deno.env.get("DB_SCALE_ROWS") ?? 100_000);

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}
const PlanNodeSchema: z.ZodType<PlanNode> = z.lazy(() =>
  z.looseObject({
    "Node Type": z.string(),
    "Relation Name": z.string().optional(),
    "Index Name": z.string().optional(),
    Plans: z.array(PlanNodeSchema).optional(),
  })
);
const ExplainSchema = z.array(z.object({ Plan: PlanNodeSchema, "Execution Time": z.number() }));

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const QUERIES: Array<[label: string, query: string, index: string]> = [
  ["raw_storage_health", "select * from public.raw_storage_health", "idx_conversations_created_at"],
  ["parse_success_hourly", "select * from public.parse_success_hourly", "idx_conversations_created_at"],
  ["storage_growth_hourly", "select * from public.storage_growth_hourly", "idx_conversations_created_at"],
  [
    "parse_error_patterns",
    "select * from public.parse_error_patterns",
    "idx_conversations_review_created_at",
  ],
  [
    "step 5: latest in 5 min",
    `SELECT conversation_id, raw_response_path FROM conversations
      WHERE created_at > NOW() - INTERVAL '5 minutes' ORDER BY created_at DESC LIMIT 1`,
    "idx_conversations_created_at",
  ],
  [
    "step 6: review in 1 h",
    `SELECT COUNT(*) FROM conversations WHERE requires_manual_review = true
        AND created_at > NOW() - INTERVAL '1 hour'`,
    "idx_conversations_review_created_at",
  ],
  [
    "known issue: size 24 h",
    `SELECT AVG(raw_response_size), MAX(raw_response_size) FROM conversations
      WHERE created_at > NOW() - INTERVAL '24 hours'`,
    "idx_conversations_created_at",
  ],
];

Deno.test(`monitoring queries read their window through an index at ${ROWS} rows`, async () => {
  const db = await createScratchDb("scale");
  try {
    const sql = db.sql;
    const started = performance.now();
    await sql`insert into auth.users (id) select gen_random_uuid() from generate_series(1, 50)`;
    await sql`
      insert into public.conversations (user_id, created_at, processing_status, raw_response_path,
        raw_response_size, parse_method_used, requires_manual_review, parse_error_message, parse_attempts)
      select u.ids[1 + (g % 50)], now() - random() * interval '365 days',
             case when r < 0.98 then 'completed' else 'parse_failed' end,
             'raw/x/' || g || '.json', 8000 + (random() * 20000)::int,
             case when r < 0.95 then 'direct' when r < 0.98 then 'jsonrepair' end,
             r >= 0.98, case when r >= 0.98 then 'Unterminated string at ' || (g % 7) end, 1
        from (select g, random() as r from generate_series(1, ${ROWS}::int) g) s,
             (select array_agg(id) as ids from auth.users) u`;
    await sql`vacuum analyze public.conversations`;
    console.log(`\n${ROWS} rows loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const report: string[] = [];
    for (const [label, query, index] of QUERIES) {
      const [first] = await sql.unsafe(`explain (analyze, format json) ${query}`);
      const [explain] = ExplainSchema.parse(first?.["QUERY PLAN"]);
      assert.ok(explain);
      const all = nodes(explain.Plan);
      const seq = all.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "conversations");
      assert.deepEqual(seq, [], `${label} scans conversations sequentially`);
      const used = all.map((n) => n["Index Name"]).filter((n) => n !== undefined);
      assert.ok(used.includes(index), `${label} uses ${used.join(", ") || "no index"}, expected ${index}`);
      report.push(
        `${label.padEnd(26)} ${explain["Execution Time"].toFixed(2).padStart(8)} ms  ${used.join(", ")}`,
      );
    }

    // The same view without its index, for comparison (rolled back).
    let withoutIndex = 0;
    await sql.begin(async (tx) => {
      await tx`drop index public.idx_conversations_created_at`;
      const [first] = await tx.unsafe(
        `explain (analyze, format json) select * from public.raw_storage_health`,
      );
      withoutIndex = ExplainSchema.parse(first?.["QUERY PLAN"])[0]?.["Execution Time"] ?? 0;
      throw new Error("rollback");
    }).catch((err) => {
      if (!(err instanceof Error && err.message === "rollback")) throw err;
    });
    report.push(
      `${"raw_storage_health, no idx".padEnd(26)} ${withoutIndex.toFixed(2).padStart(8)} ms  (seq scan)`,
    );
    console.log(report.join("\n"));
  } finally {
    await db.drop();
  }
});
