/**
 * `deno task bench:parse-pipeline [--latency N] [--backlog N] [--concurrency N] [--rate N]`
 *
 * Measures the parse pipeline on the running local stack (`deno task stack:start`), through the production path:
 *
 * 1. latency — N raw uploads one after another (Storage API as the service role, like generate-conversation):
 *    time from the start of the upload to the moment the row is `completed` (the attempts-log row's timestamp,
 *    written by the function in the finishing transaction; same machine, same clock). p50 / p90 / p99 / max.
 * 2. upload throughput — N uploads with `concurrency` in flight; conversations completed per second from the
 *    first upload to the last completion (trigger wake-ups, one conversation per request).
 * 2b. steady rate — uploads started at `rate` per second (below saturation), latency p50 / p90 / p99.
 * 3. backlog drain — N raw objects stored while wake-ups are lost (Vault URL pointed at a closed port), then one
 *    sweeper run (batches of 50 through pg_net): parse throughput in conversations per second, the path that
 *    recovers a backlog.
 *
 * Prints one JSON object; docs/BENCHMARKS.md "## Parse pipeline" records the figures. Figures, not a test: it
 * never fails on a slow run. Raw responses come from the Claude stand-in (`clean`, a few KB each).
 */
import { parseCli } from "../local/parse_cli.ts";
import {
  closePipeline,
  createGeneratingRow,
  createUser,
  db,
  ensureSecrets,
  standinResponse,
  uploadRaw,
  withLostWakeups,
} from "../tests/integration/parse/_pipeline.ts";
import { sha256Hex } from "../shared/pipeline/sha256.ts";
import { join } from "node:path";
import { stateDir } from "../local/paths.ts";

const { values } = parseCli("bench:parse-pipeline", import.meta.url, {
  latency: { type: "string", default: "200" },
  backlog: { type: "string", default: "1000" },
  concurrency: { type: "string", default: "16" },
  rate: { type: "string", default: "30" },
});
const LATENCY_N = Number(values.latency);
const BACKLOG_N = Number(values.backlog);
const CONCURRENCY = Number(values.concurrency);
const RATE = Number(values.rate);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 10) / 10;
}

async function mapLimit<T>(n: number, limit: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/**
 * CPU seconds used so far by the local stack's gateway (Storage API, functions host with the parse function,
 * pg_net worker: one process) and by the cluster's Postgres processes. Linux /proc; null where unreadable.
 */
function stackCpuSeconds(): { gateway: number | null; postgres: number | null } {
  const ticks = 100; // USER_HZ on Linux
  const cpuOf = (pid: number): number => {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticks; // utime + stime
  };
  let gateway: number | null = null;
  let postgres: number | null = null;
  try {
    gateway = cpuOf(JSON.parse(Deno.readTextFileSync(join(stateDir(), "gateway.json"))).pid);
  } catch { /* not the local stack */ }
  try {
    const postmaster = Number(
      Deno.readTextFileSync(join(stateDir(), "pg", "data", "postmaster.pid")).split("\n")[0],
    );
    postgres = cpuOf(postmaster);
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
        if (Number(stat.split(") ")[1].split(" ")[1]) === postmaster) postgres += cpuOf(Number(entry.name));
      } catch { /* exited */ }
    }
  } catch { /* cluster elsewhere */ }
  return { gateway, postgres };
}

function cpuPerConversation(
  before: ReturnType<typeof stackCpuSeconds>,
  n: number,
): Record<string, number | null> {
  const after = stackCpuSeconds();
  const per = (a: number | null, b: number | null) =>
    a === null || b === null ? null : Math.round(((a - b) * 1000 / n) * 100) / 100;
  return {
    gateway_ms: per(after.gateway, before.gateway),
    postgres_ms: per(after.postgres, before.postgres),
  };
}

/** Prepared rows (as generate-conversation leaves them) and the bytes to upload for each. */
async function prepare(user: string, n: number): Promise<{ id: string; bytes: Uint8Array }[]> {
  return await mapLimit(n, 16, async () => {
    const bytes = await standinResponse("clean", crypto.randomUUID());
    const id = await createGeneratingRow(user, { rawSha256: await sha256Hex(bytes) });
    return { id, bytes };
  });
}

/** Epoch milliseconds at which each conversation was completed (attempts-log timestamp), once all are done. */
async function completedAt(ids: string[], timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const rows = await db()`
      select a.conversation_id, extract(epoch from a.created_at) * 1000 as at
        from public.conversation_parse_attempts a
       where a.conversation_id = any(${ids}::uuid[]) and a.outcome = 'parsed'`;
    if (rows.length === ids.length || Date.now() > deadline) {
      return new Map(rows.map((r) => [String(r.conversation_id), Number(r.at)]));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

await ensureSecrets();
const user = await createUser();
const report: Record<string, unknown> = {
  machine: `${navigator.hardwareConcurrency} cores`,
  deno: Deno.version.deno,
};

// Warm the function worker and the connection pools: the first request of a cold worker boots the module.
{
  const [w] = await prepare(user, 1);
  await uploadRaw(user, w.id, w.bytes);
  await completedAt([w.id], 10_000);
}

// 1. Latency, one at a time.
{
  const items = await prepare(user, LATENCY_N);
  const started = new Map<string, number>();
  for (const item of items) {
    started.set(item.id, Date.now());
    await uploadRaw(user, item.id, item.bytes);
    await completedAt([item.id], 10_000);
  }
  const done = await completedAt(items.map((i) => i.id), 10_000);
  const latencies = items.map((i) => done.get(i.id)! - started.get(i.id)!).sort((a, b) => a - b);
  report.latency_upload_to_completed_ms = {
    n: latencies.length,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
    raw_bytes_avg: Math.round(items.reduce((s, i) => s + i.bytes.byteLength, 0) / items.length),
  };
}

// 2. Concurrent uploads, each woken by the trigger.
{
  const items = await prepare(user, BACKLOG_N);
  const started = new Map<string, number>();
  const cpu = stackCpuSeconds();
  const t0 = Date.now();
  await mapLimit(items.length, CONCURRENCY, async (i) => {
    started.set(items[i].id, Date.now());
    await uploadRaw(user, items[i].id, items[i].bytes);
  });
  const uploaded = Date.now();
  const done = await completedAt(items.map((i) => i.id), 120_000);
  const last = Math.max(...done.values());
  const latencies = items.filter((i) => done.has(i.id)).map((i) => done.get(i.id)! - started.get(i.id)!)
    .sort((a, b) => a - b);
  report.upload_throughput = {
    n: items.length,
    concurrency: CONCURRENCY,
    completed: done.size,
    uploads_per_s: Math.round(items.length / ((uploaded - t0) / 1000)),
    completed_per_s: Math.round(done.size / ((last - t0) / 1000)),
    latency_p50_ms: percentile(latencies, 50),
    latency_p99_ms: percentile(latencies, 99),
    cpu_per_conversation: cpuPerConversation(cpu, items.length),
  };
}

// 2b. Open loop: uploads started at a steady rate below saturation, as generations arrive in production.
{
  const n = Math.min(BACKLOG_N, RATE * 20);
  const items = await prepare(user, n);
  const started = new Map<string, number>();
  const t0 = Date.now();
  await Promise.all(items.map(async (item, i) => {
    const due = t0 + (i * 1000) / RATE;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    started.set(item.id, Date.now());
    await uploadRaw(user, item.id, item.bytes);
  }));
  const done = await completedAt(items.map((i) => i.id), 60_000);
  const latencies = items.filter((i) => done.has(i.id)).map((i) => done.get(i.id)! - started.get(i.id)!)
    .sort((a, b) => a - b);
  report.steady_rate = {
    n,
    offered_per_s: RATE,
    completed: done.size,
    latency_p50_ms: percentile(latencies, 50),
    latency_p90_ms: percentile(latencies, 90),
    latency_p99_ms: percentile(latencies, 99),
  };
}

// 3. Backlog drain by the sweeper.
{
  const items = await prepare(user, BACKLOG_N);
  const ids = items.map((i) => i.id);
  let uploadSeconds = 0;
  await withLostWakeups(async () => {
    const u0 = Date.now();
    await mapLimit(items.length, CONCURRENCY, (i) => uploadRaw(user, items[i].id, items[i].bytes));
    uploadSeconds = (Date.now() - u0) / 1000;
    // Let the failing wake-ups be attempted (and lost) before the URL is restored.
    await new Promise((r) => setTimeout(r, 1500));
  });
  const pending = await db()`
    select count(*)::int as n from public.conversations
     where conversation_id = any(${ids}::uuid[]) and processing_status = 'raw_stored'`;
  // One sweeper run, as pg_cron starts it; another only if the drain stalls (a run dispatches p_batch rows, and
  // other due rows in a shared database compete for the same batch).
  const cpu = stackCpuSeconds();
  const t0 = Date.now();
  let sweeps = 0;
  let done = new Map<string, number>();
  let progressAt = Date.now();
  while (Date.now() - t0 < 120_000) {
    if (sweeps === 0 || Date.now() - progressAt > 3000) {
      await db()`select private.sweep_conversations(p_batch => ${items.length}, p_grace => interval '0 seconds')`;
      sweeps++;
      progressAt = Date.now();
    }
    await new Promise((r) => setTimeout(r, 100));
    const now = await completedAt(ids, 0);
    if (now.size > done.size) progressAt = Date.now();
    done = now;
    if (done.size === ids.length) break;
  }
  const last = Math.max(...done.values());
  report.backlog_drain = {
    n: items.length,
    uploads_without_wakeups_per_s: Math.round(items.length / uploadSeconds),
    waiting_before_sweep: pending[0].n,
    sweeps,
    completed: done.size,
    seconds: Math.round(last - t0) / 1000,
    parsed_per_s: Math.round(done.size / ((last - t0) / 1000)),
    cpu_per_conversation: cpuPerConversation(cpu, items.length),
  };
}

console.log(JSON.stringify(report, null, 2));
await closePipeline();
