/**
 * Load script for generate-conversation's raw-first overhead: the time the function spends making the answer
 * durable (`write_ahead`: the one statement that puts the bytes in the database before anything slow), on Storage
 * (`raw_store`) and the database (`db`) around the Claude call, read from each response's Server-Timing header,
 * at several concurrency levels against the local stack with the Claude stand-in at zero latency. With
 * `--in-process` it also collects each request's in-memory window (`memory_window_ms` of the `raw_written_ahead`
 * log line: from the last stream event to the write-ahead's commit), the durable window (`durable_window_ms`:
 * to the first durable store, the write-ahead or the log-ahead, whichever came first), how many answers the
 * log-ahead logged (`--log-ahead-ms`, default 3: GENERATE_LOG_AHEAD_MS; -1 off) and the checkpoints written.
 *
 *   deno task bench:generate [--levels 1,10,50] [--requests 200] [--warmup 20] [--no-parse] [--in-process]
 *                            [--behavior clean|slow:1000|…] [--stagger-ms 1000] [--log-ahead-ms 3]
 *
 * Requests go through the gateway like a client's (user JWT, verify_jwt on), with `Prefer: respond-async` so the
 * parse wait is not part of the measure. The parse itself still runs in the background (trigger → pg_net →
 * parse-conversation), as in production, and competes for the same two cores; `--no-parse` removes the Vault
 * secrets for the run (the trigger then sends no wake-up) to measure generate alone, and puts them back after.
 * `--in-process` calls the same handler in this process instead (real postgres.js, supabase-js Storage and SDK
 * against the stack, no functions-host hop): fewer processes competing for the cores, same code under measure.
 * `--behavior` picks the stand-in's answer (default `clean`, zero latency; `slow:1000` models a Claude call that
 * takes a second, so the concurrent requests no longer hit Storage and the database at the same instant).
 * Results: docs/BENCHMARKS.md, "generate-conversation".
 */
import { serveHandler } from "../shared/http/serve.ts";
import { parseCli } from "../local/parse_cli.ts";
import { anthropicClaudeClient } from "../shared/adapters/anthropic_claude_client.ts";
import { postgresUsageLimiter } from "../shared/adapters/postgres_usage_limiter.ts";
import { liftGenerateLimits } from "../local/usage_limits.ts";
import { postgresConversationRepo } from "../shared/adapters/postgres_conversation_repo.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { supabaseObjectStore } from "../shared/adapters/supabase_object_store.ts";
import { systemClock } from "../shared/pipeline/clock.ts";
import { handleGenerateConversation } from "../shared/generate/handler.ts";
import { parseServerTiming } from "../shared/http/server_timing.ts";
import { setLogSink } from "../shared/log.ts";
import { closeSql, createTestUser, sql, stackEnv, standinAdmin } from "../tests/support/stack.ts";
import { ensurePipelineSecrets, SEED_BODY } from "../tests/integration/generate/_helpers.ts";

interface Sample {
  status: number;
  overhead: number;
  writeAhead: number;
  rawStore: number;
  db: number;
  claude: number;
  wall: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

function stats(values: number[]): { p50: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] };
}

type Send = (req: Request) => Promise<Response>;

async function one(send: Send, url: string, token: string): Promise<Sample> {
  const t0 = performance.now();
  const res = await send(
    new Request(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        prefer: "respond-async",
        "x-standin-behavior": "clean",
      },
      body: JSON.stringify(SEED_BODY),
    }),
  );
  await res.arrayBuffer();
  const wall = performance.now() - t0;
  const t = parseServerTiming(res.headers.get("server-timing"));
  const rawStore = t.raw_store ?? NaN;
  const db = t.db ?? NaN;
  const writeAhead = t.write_ahead ?? 0;
  return {
    status: res.status,
    overhead: writeAhead + rawStore + db,
    writeAhead,
    rawStore,
    db,
    claude: t.claude ?? NaN,
    wall,
  };
}

/** `concurrency` workers, each sending requests back to back until `total` have been sent. */
async function run(
  send: Send,
  url: string,
  token: string,
  concurrency: number,
  total: number,
  staggerMs = 0,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let sent = 0;
  await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
    // Spread the workers' start over one call's duration, so they do not stay in lockstep.
    if (staggerMs > 0) await new Promise((r) => setTimeout(r, (i * staggerMs) / concurrency));
    while (sent < total) {
      sent++;
      samples.push(await one(send, url, token));
    }
  }));
  return samples;
}

const { values } = parseCli("bench:generate", import.meta.url, {
  levels: { type: "string", default: "1,10,50" },
  requests: { type: "string", default: "200" },
  warmup: { type: "string", default: "20" },
  markdown: { type: "boolean", default: false },
  "no-parse": { type: "boolean", default: false },
  "in-process": { type: "boolean", default: false },
  behavior: { type: "string", default: "clean" },
  "stagger-ms": { type: "string", default: "0" },
  "checkpoint-ms": { type: "string", default: "5000" },
  "checkpoint-chars": { type: "string", default: "32768" },
  "log-ahead-ms": { type: "string", default: "3" },
});

/** In-process only: the write-ahead log lines (in-memory window, checkpoints) of the requests being measured. */
const windows: number[] = [];
const durables: number[] = [];
let logAheads = 0;
const checkpoints: { written: number; writeMs: number } = { written: 0, writeMs: 0 };

await ensurePipelineSecrets();
if (values["no-parse"]) {
  await sql()`delete from vault.secrets where name in ('project_url', 'service_role_key')`;
}
const env = stackEnv();
const url = `${env.SUPABASE_URL}/functions/v1/generate-conversation`;
let send: Send = (req) => fetch(req);
if (values["in-process"]) {
  setLogSink((line) => {
    if (!line.includes('"raw_written_ahead"')) return;
    const l = JSON.parse(line);
    windows.push(Number(l.memory_window_ms));
    if (l.durable_window_ms !== undefined) durables.push(Number(l.durable_window_ms));
    if (l.log_ahead_parts !== undefined) logAheads++;
    checkpoints.written += Number(l.checkpoints ?? 0);
    checkpoints.writeMs += Number(l.checkpoint_write_ms ?? 0);
  });
  const db = createSql(env.SUPABASE_DB_URL);
  const handler = serveHandler(
    handleGenerateConversation({
      repo: postgresConversationRepo(db),
      store: supabaseObjectStore(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY),
      claude: anthropicClaudeClient({
        apiKey: "local-standin",
        baseURL: env.ANTHROPIC_BASE_URL,
        timeoutMs: 30_000,
        maxRetries: 3,
        deadlineMs: 60_000,
        headers: { "x-standin-behavior": String(values.behavior) },
        standinSeed: true,
      }),
      clock: systemClock,
      config: {
        model: "claude-sonnet-4-5",
        maxTokens: 24576,
        parseWaitMs: 0,
        uploadRetries: 3,
        uploadTimeoutMs: 15_000,
        writeAheadLeaseMs: 120_000,
        checkpointEveryMs: Number(values["checkpoint-ms"]),
        checkpointEveryChars: Number(values["checkpoint-chars"]),
        checkpointLeaseMs: 420_000,
        logAheadAfterMs: Number(values["log-ahead-ms"]),
      },
      serviceKeys: [env.SUPABASE_SERVICE_ROLE_KEY],
      limits: postgresUsageLimiter(db),
    }),
    "generate-conversation",
  );
  send = handler;
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!String(args[0]).includes("is deprecated and will reach end-of-life")) warn(...args);
  };
}
// Through the gateway the function forwards no client header to Claude: the stand-in's default is set instead.
const json = { method: "POST", headers: { "content-type": "application/json" } };
if (!values["in-process"]) {
  await standinAdmin("behavior", { ...json, body: JSON.stringify({ behavior: values.behavior }) });
}
const user = await createTestUser();
// Hundreds of requests a minute from one account, on purpose: its per-user generate limits are lifted.
await liftGenerateLimits(sql(), user.id);
await run(send, url, user.token, 4, Number(values.warmup));

const rows: string[] = [];
for (const level of String(values.levels).split(",").map(Number)) {
  const total = Math.max(Number(values.requests), level * 4);
  windows.length = 0;
  durables.length = 0;
  logAheads = 0;
  checkpoints.written = 0;
  checkpoints.writeMs = 0;
  const started = performance.now();
  const samples = await run(send, url, user.token, level, total, Number(values["stagger-ms"]));
  const seconds = (performance.now() - started) / 1000;
  const ok = samples.filter((s) => s.status === 201);
  const o = stats(ok.map((s) => s.overhead));
  const wa = stats(ok.map((s) => s.writeAhead));
  const mw = stats(windows);
  const dw = stats(durables);
  const r = stats(ok.map((s) => s.rawStore));
  const d = stats(ok.map((s) => s.db));
  const c = stats(ok.map((s) => s.claude));
  const w = stats(ok.map((s) => s.wall));
  const f = (n: number) => n.toFixed(1);
  rows.push(
    `| ${level} | ${total} | ${total - ok.length} | ${f(o.p50)} | ${f(o.p99)} | ${f(wa.p50)} / ${
      f(wa.p99)
    } | ` +
      `${windows.length ? `${f(mw.p50)} / ${f(mw.p99)} / ${f(mw.max)}` : "n/a"} | ` +
      `${durables.length ? `${f(dw.p50)} / ${f(dw.p99)} / ${f(dw.max)}` : "n/a"} | ${logAheads} | ` +
      `${checkpoints.written} | ` +
      `${f(r.p50)} / ${f(r.p99)} | ` +
      `${f(d.p50)} / ${f(d.p99)} | ${f(c.p50)} | ${f(w.p50)} / ${f(w.p99)} | ${
        (ok.length / seconds).toFixed(0)
      } |`,
  );
  if (!values.markdown) console.log(`concurrency ${level}: ${rows[rows.length - 1]}`);
}

const header = [
  "| concurrency | requests | errors | overhead p50 (ms) | overhead p99 (ms) | write_ahead p50 / p99 | " +
  "write-ahead window p50 / p99 / max | durable window p50 / p99 / max | log-ahead logged | checkpoints | raw_store p50 / p99 | db p50 / p99 | claude p50 | " +
  "wall p50 / p99 | req/s |",
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
];
console.log([...header, ...rows].join("\n"));
if (!values["in-process"]) {
  await standinAdmin("behavior", { ...json, body: JSON.stringify({ behavior: null }) });
}
if (values["no-parse"]) {
  const { syncSecrets } = await import("../local/sync_secrets.ts");
  await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
}
await closeSql();
// The in-process pool and the SDK keep sockets open; the numbers are printed.
Deno.exit(0);
