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
 * --pure runs the collector itself (collectBatch) in process on a synthetic N-line results stream, with
 * in-memory stand-ins for Storage and the database: its own time per result and the process's peak RSS.
 */
import postgres from "postgres";
import { collectOnce, readBatches, submitBatch } from "../local/batch_client.ts";
import { ensureDemoUser, loadScaffolding } from "../local/demo/run_demo.ts";
import { planDemo } from "../local/demo/plan.ts";
import { parseCli } from "../local/parse_cli.ts";
import { readStackEnv } from "../local/stack_env.ts";
import type { BatchApi, RemoteBatch } from "../shared/batch/batch_api.ts";
import { BATCH_DEFAULTS } from "../shared/batch/batch_env.ts";
import type { BatchRecord, BatchStore } from "../shared/batch/batch_store.ts";
import { collectBatch } from "../shared/batch/collect_batches.ts";
import { systemClock } from "../shared/pipeline/clock.ts";
import type { ObjectStore } from "../shared/pipeline/object_store.ts";
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
  await pure(n);
  Deno.exit(0);
}

/**
 * The collector itself, in process: collectBatch over in-memory stand-ins (a results stream generated line by
 * line, results parts in a temporary folder, raw uploads hashed and dropped, rows in a Map), so what it times
 * and what the process's peak RSS shows are the collector's own work and memory, not Storage's or PostgreSQL's.
 */
async function pure(count: number): Promise<void> {
  const text = "Client: I am worried about my 401(k). ".repeat(60);
  const userId = "6a1c2b9e-7a4d-4c1e-9a57-2d3c4b5a6f70";
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  const lineOf = (id: string, i: number) =>
    JSON.stringify({
      custom_id: id,
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
    }) + "\n";
  let fileBytes = 0;
  async function* stream(): AsyncGenerator<Uint8Array> {
    const enc = new TextEncoder();
    let buf = "";
    for (let i = 0; i < ids.length; i++) {
      buf += lineOf(ids[i], i);
      if (buf.length >= 65536 || i === ids.length - 1) {
        const chunk = enc.encode(buf);
        fileBytes += chunk.length;
        buf = "";
        yield chunk;
      }
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "bench-batch-collect-" });
  const partFile = (path: string) => `${dir}/${path.replaceAll("/", "_")}`;
  const results: ObjectStore = {
    async upload(path, bytes) {
      try {
        await Deno.writeFile(partFile(path), bytes, { createNew: true });
        return { ok: true };
      } catch {
        return { ok: false, kind: "exists" };
      }
    },
    async download(path) {
      return { ok: true, bytes: await Deno.readFile(partFile(path)) };
    },
    remove: () => Promise.resolve({ ok: true, removed: [] }),
    signedUrl: () => Promise.resolve({ ok: false, message: "none" }),
  };
  let rawObjects = 0;
  const raw: ObjectStore = {
    upload: async (_path, bytes) => {
      await sha256Hex(bytes);
      rawObjects++;
      return { ok: true };
    },
    download: () => Promise.resolve({ ok: false, kind: "not_found" }),
    remove: () => Promise.resolve({ ok: true, removed: [] }),
    signedUrl: () => Promise.resolve({ ok: false, message: "none" }),
  };
  const status = new Map(ids.map((id) => [id, "batch_queued"]));
  const counts = { processing: 0, succeeded: count, errored: 0, canceled: 0, expired: 0 };
  let record: BatchRecord = {
    id: "bench",
    userId,
    anthropicBatchId: "msgbatch_bench",
    state: "in_progress",
    requestCount: count,
    model: "claude-sonnet-5-5",
    requestHash: "0".repeat(64),
    requeueDepth: 0,
    collectAttempts: 0,
    resultsSha256: null,
    resultsParts: null,
    createdAt: new Date(),
    expiresAt: null,
  };
  const remote: RemoteBatch = {
    id: "msgbatch_bench",
    status: "ended",
    counts,
    createdAt: new Date(),
    expiresAt: new Date(),
    endedAt: new Date(),
    resultsUrl: "http://bench/results",
  };
  const api = {
    create: () => Promise.reject(new Error("not in the bench")),
    retrieve: () => Promise.resolve({ ok: true as const, value: remote }),
    cancel: () => Promise.reject(new Error("not in the bench")),
    openResults: () => Promise.resolve({ ok: true as const, value: stream() as AsyncIterable<Uint8Array> }),
    // The collector before the results file was streamed (b06077d) asked for the whole file at once.
    downloadResults: async () => {
      const chunks: Uint8Array[] = [];
      for await (const c of stream()) chunks.push(c);
      const all = new Uint8Array(chunks.reduce((k, c) => k + c.length, 0));
      let off = 0;
      for (const c of chunks) {
        all.set(c, off);
        off += c.length;
      }
      return { ok: true as const, value: all };
    },
  } as unknown as BatchApi;
  const store = {
    recordPoll: () => Promise.resolve(),
    recordResults: (_id: string, r: { sha256: string; parts: BatchRecord["resultsParts"] }) => {
      record = { ...record, state: "results_stored", resultsSha256: r.sha256, resultsParts: r.parts };
      return Promise.resolve(record);
    },
    record: () => Promise.resolve(record),
    conversations: () =>
      Promise.resolve(
        ids.map((id) => ({ conversationId: id, userId, status: status.get(id)!, batchId: "bench" })),
      ),
    recordSucceeded: (_id: string, rows: { conversationId: string }[]) =>
      Promise.resolve(rows.map((r) => r.conversationId)),
    markFailed: () => Promise.resolve(0),
    markCollected: () => Promise.resolve(true),
    recordCollectError: () => Promise.resolve(),
  } as unknown as BatchStore;
  const t = performance.now();
  const out = await collectBatch({
    store,
    api,
    results,
    raw,
    clock: systemClock,
    settings: { ...BATCH_DEFAULTS, runBudgetMs: 3_600_000 },
  }, record);
  const ms = performance.now() - t;
  await Deno.remove(dir, { recursive: true });
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? 0);
  console.log(JSON.stringify({
    pure: true,
    outcome: out.outcome,
    results: count,
    raw_objects: rawObjects,
    file_mb: Math.round(fileBytes / 1e5) / 10,
    ms: Math.round(ms),
    results_per_s: Math.round(count / (ms / 1000)),
    peak_rss_mb: Math.round(peakKb / 1024),
  }));
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
