/**
 * `deno task bench:batch-collect [--requests N] [--behavior NAME] [--with-parse] [--pure]`
 *
 * Collection throughput of the batch collector (docs/BENCHMARKS.md, "Batch collection"): submits one batch of N
 * requests (default 10,000) through generate-batch, ends it at the Claude stand-in, then times the collector
 * function (collect-batches, called back to back as pg_cron would every minute) from the ended batch to
 * `collected`: download, the results file stored in parts, then one raw object per succeeded result through the
 * Storage API (and its trigger) and the failures recorded. Prints results/s and raw objects/s.
 *
 * pg_net is paused during the timing unless --with-parse (so the parse of the new raw objects does not share the
 * two CPUs with the collector); it is resumed, and the parses run, after. Also prints the Edge Function time
 * per conversation (submit + collection) to set beside generate-conversation's. Needs a running local stack.
 *
 * --pure times only the collector's own work per result, in process, on a synthetic N-line file (no Storage,
 * no database): reading the lines, serializing each Message and hashing it.
 */
import postgres from "postgres";
import { collectOnce, readBatches, submitBatch } from "../local/batch_client.ts";
import { ensureDemoUser, loadScaffolding } from "../local/demo/run_demo.ts";
import { planDemo } from "../local/demo/plan.ts";
import { parseCli } from "../local/parse_cli.ts";
import { readStackEnv } from "../local/stack_env.ts";
import { readResults } from "../shared/batch/results_file.ts";
import { sha256Hex } from "../shared/pipeline/sha256.ts";

const { values } = parseCli("bench:batch-collect", import.meta.url, {
  requests: { type: "string", default: "10000" },
  behavior: { type: "string", default: "clean" },
  "with-parse": { type: "boolean", default: false },
  pure: { type: "boolean", default: false },
});
const n = Number(values.requests);
if (!Number.isInteger(n) || n < 1 || n > 100_000) {
  console.error("bench:batch-collect: --requests must be 1 to 100000 (see --help)");
  Deno.exit(2);
}
if (values.pure) {
  const text = "Client: I am worried about my 401(k). ".repeat(60);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: crypto.randomUUID(),
      result: {
        type: "succeeded",
        message: {
          id: `msg_${i}`,
          type: "message",
          role: "assistant",
          model: "claude-sonnet-5-5",
          content: [{ type: "text", text: JSON.stringify({ turns: [{ role: "user", content: text }] }) }],
          stop_reason: "end_turn",
          usage: { input_tokens: 1500, output_tokens: 900, service_tier: "batch" },
        },
      },
    }));
  const file = new TextEncoder().encode(lines.join("\n") + "\n");
  const t = performance.now();
  let hashed = 0;
  for (const line of readResults(file)) {
    if (line.kind !== "succeeded") continue;
    await sha256Hex(new TextEncoder().encode(JSON.stringify(line.message)));
    hashed++;
  }
  const ms = performance.now() - t;
  console.log(JSON.stringify({
    pure: true,
    results: hashed,
    file_mb: Math.round(file.length / 1e5) / 10,
    ms: Math.round(ms),
    results_per_s: Math.round(hashed / (ms / 1000)),
  }));
  Deno.exit(0);
}

const env = readStackEnv();
const ep = { url: env.SUPABASE_URL, serviceKey: env.SUPABASE_SERVICE_ROLE_KEY };

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 1, onnotice: () => {} });
try {
  const user = await ensureDemoUser(sql, null);
  const plan = planDemo(await loadScaffolding(sql), n, crypto.randomUUID().slice(0, 8));
  if (!plan.ok) throw new Error(plan.message);
  await post(`${env.ANTHROPIC_BASE_URL}/__admin/behavior`, { behavior: values.behavior });
  const t0 = performance.now();
  const batch = await submitBatch(ep, user, plan.items.map((i) => i.body));
  const submitMs = performance.now() - t0;
  await post(`${env.ANTHROPIC_BASE_URL}/__admin/batches/${batch.anthropic_batch_id}/end`, {});
  if (!values["with-parse"]) await post(`${env.SUPABASE_URL}/_internal/faults`, { pg_net: "paused" });
  const t1 = performance.now();
  let runs = 0;
  let state = "";
  let b: Record<string, unknown> = {};
  try {
    while (state !== "collected" && state !== "failed") {
      // A run the platform ends (wall clock) is resumed by the next, as pg_cron's next tick would.
      await collectOnce(ep).catch((err) => console.error(String(err)));
      runs++;
      [b] = await readBatches(ep, null, batch.batch_id);
      state = String(b.state);
    }
  } finally {
    if (!values["with-parse"]) await post(`${env.SUPABASE_URL}/_internal/faults`, { pg_net: "running" });
    await post(`${env.ANTHROPIC_BASE_URL}/__admin/behavior`, { behavior: null });
  }
  const collectMs = performance.now() - t1;
  const tally = b.collected_counts as Record<string, number>;
  const [{ size }] = await sql`select results_size::bigint as size from public.generation_batches
                                where id = ${batch.batch_id}`;
  const out = {
    requests: n,
    behavior: values.behavior,
    parse_running: values["with-parse"],
    submit_ms: Math.round(submitMs),
    collect_ms: Math.round(collectMs),
    collector_runs: runs,
    results_mb: Math.round(Number(size) / 1e5) / 10,
    results_per_s: Math.round(n / (collectMs / 1000)),
    raw_objects_per_s: Math.round((tally.succeeded ?? 0) / (collectMs / 1000)),
    function_ms_per_conversation: Math.round(((submitMs + collectMs) / n) * 100) / 100,
    tally,
  };
  console.log(JSON.stringify(out));
} finally {
  await sql.end({ timeout: 2 });
}
