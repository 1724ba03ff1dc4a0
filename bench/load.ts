/**
 * The load run: many concurrent clients against the local stack for a few minutes, then throughput, latency per
 * endpoint, what became of every conversation, and the memory of the gateway and its function workers.
 *
 *   deno task bench:load [--clients 50] [--duration 180] [--warmup 60] [--users 10] [--review-share 0.2]
 *                        [--async] [--sample-every 5] [--drain 120] [--json | --markdown] [--samples-file F]
 *
 * Each client is a closed loop (next request when the last one is answered, no think time), signed in as one of
 * `--users` users, picking per request: generate-conversation (POST, the stand-in at zero latency, `clean`),
 * or a review-queue GET (the list, or one item with its signed raw URL), `--review-share` of the time. Every
 * user's queue is seeded with two truncated conversations first, so the GETs return items. generate waits for
 * the parse like the seed's API did (up to GENERATE_PARSE_WAIT_MS); `--async` sends `Prefer: respond-async`.
 *
 * Requests that start during the warm-up are not counted. Memory (VmRSS of the gateway process and of each
 * function worker, its children, from /proc/<pid>/status) is sampled every `--sample-every` seconds; growth is
 * end minus the first sample after the warm-up, plus least-squares trends over the whole measured phase and over
 * its second half (V8 grows a busy process's heap for minutes before it levels off: the late trend tells a
 * leak from that). After the run the pipeline is
 * drained (the sweeper is run as pg_cron would) and the run's rows, raw objects and 201 answers are reconciled.
 * `--samples-file` writes every memory sample as CSV (t_s,process,pid,rss_kb) to see the shape of a trend.
 *
 * Bounded: loopback URLs only, at most 200 clients and 30 minutes, and a watchdog ends the process if anything
 * hangs. Results: docs/BENCHMARKS.md, "Load". Not part of ./bin/test; tests/e2e/load_smoke_test.ts runs it
 * with 5 clients for 5 seconds so it does not rot.
 */
import { liftGenerateLimits } from "../local/usage_limits.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCli } from "../local/parse_cli.ts";
import postgres from "postgres";
import { z } from "zod";
import { syncSecrets } from "../local/sync_secrets.ts";
import { loadScaffolding, setStandinBehavior } from "../local/demo/run_demo.ts";
import { seededRandom } from "../local/claude_standin/behavior.ts";
import { userToken } from "../local/keys.ts";
import { REPO_ROOT, stateDir } from "../local/paths.ts";
import { readStackEnv, type StackEnv } from "../local/stack_env.ts";
import {
  type ConversationCounts,
  type Endpoint,
  formatMarkdown,
  formatReport,
  type LoadReport,
  type MemorySample,
  memoryTrends,
  parseProcStatus,
  percentile,
  type Sample,
  summarize,
} from "./_load_report.ts";

const argsSchema = z.object({
  clients: z.coerce.number().int().min(1).max(200),
  duration: z.coerce.number().int().min(1).max(1800),
  warmup: z.coerce.number().int().min(0).max(300),
  users: z.coerce.number().int().min(1).max(200),
  "review-share": z.coerce.number().min(0).max(0.9),
  async: z.boolean(),
  "sample-every": z.coerce.number().min(0.5).max(60),
  drain: z.coerce.number().int().min(0).max(600),
  json: z.boolean(),
  markdown: z.boolean(),
  "samples-file": z.string().optional(),
});
type Args = z.infer<typeof argsSchema>;

const REQUEST_TIMEOUT_MS = 60_000;
const SEEDED_PER_USER = 2;
const TERMINAL = ["completed", "parse_failed", "generation_failed"];

function readArgs(): Args {
  const { values } = parseCli("bench:load", import.meta.url, {
    clients: { type: "string", default: "50" },
    duration: { type: "string", default: "180" },
    warmup: { type: "string", default: "60" },
    users: { type: "string", default: "10" },
    "review-share": { type: "string", default: "0.2" },
    async: { type: "boolean", default: false },
    "sample-every": { type: "string", default: "5" },
    drain: { type: "string", default: "120" },
    json: { type: "boolean", default: false },
    markdown: { type: "boolean", default: false },
    "samples-file": { type: "string" },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    throw new Error(
      `Cannot read the arguments: ${
        parsed.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ")
      }`,
    );
  }
  return { ...parsed.data, users: Math.min(parsed.data.users, parsed.data.clients) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isLoopback(url: string): boolean {
  const host = new URL(url.replace(/^postgres(ql)?:/, "http:")).hostname;
  return host === "127.0.0.1" || host === "localhost" || host === "[::1]";
}

async function gatewayHealthy(apiUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl}/_internal/health`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** The running stack's settings; starts the stack when it is not up (a running one is used as it is). */
async function stack(): Promise<StackEnv> {
  const read = () => readStackEnv();
  try {
    const env = read();
    if (await gatewayHealthy(env.SUPABASE_URL)) return env;
  } catch { /* not started yet */ }
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, "local", "stack.ts"), "start", "--quiet"],
    cwd: REPO_ROOT,
    stdin: "null",
  }).spawn().status;
  if (!status.success) throw new Error("Cannot start the local stack: see the lines above");
  return read();
}

function gatewayPid(): number {
  const state = z.object({ pid: z.number().int() }).parse(
    JSON.parse(readFileSync(join(stateDir(), "gateway.json"), "utf8")),
  );
  return state.pid;
}

/** The gateway and its function workers (children running worker_entry.ts), named `gateway`, `worker:<fn>`. */
function watchedProcesses(gateway: number): { name: string; pid: number }[] {
  const found = [{ name: "gateway", pid: gateway }];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may contain spaces, hence the last ')'): state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid !== gateway) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.findIndex((a) => a.endsWith("worker_entry.ts"));
      if (at !== -1 && argv[at + 2]) found.push({ name: `worker:${argv[at + 2]}`, pid: Number(entry) });
    } catch { /* the process ended while we looked */ }
  }
  return found;
}

function sampleMemory(gateway: number, t: number): MemorySample[] {
  return watchedProcesses(gateway).flatMap(({ name, pid }) => {
    try {
      const m = parseProcStatus(readFileSync(`/proc/${pid}/status`, "utf8"));
      return m ? [{ t, name, pid, rssKb: m.rssKb }] : [];
    } catch {
      return [];
    }
  });
}

function machine(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ??
    "unknown CPU";
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0);
  return `${navigator.hardwareConcurrency} vCPU ${cpu}, ${
    Math.round(memKb / 1024 / 1024)
  } GB RAM, Deno ${Deno.version.deno}`;
}

function loadAverage(): number | null {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return null;
  }
}

interface User {
  id: string;
  token: string;
  reviewItems: string[];
}

interface Ctx {
  env: StackEnv;
  sql: postgres.Sql;
  runId: string;
  users: User[];
  bodies: Record<string, string>[];
  args: Args;
}

/** One request, timed to the last byte of the answer. */
async function send(
  url: string,
  init: RequestInit,
): Promise<{ status: number; ms: number; body: string }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = await res.text();
    return { status: res.status, ms: performance.now() - t0, body };
  } catch {
    return { status: 0, ms: performance.now() - t0, body: "" };
  }
}

function generateInit(ctx: Ctx, user: User, body: Record<string, string>, key: string): RequestInit {
  return {
    method: "POST",
    headers: {
      authorization: `Bearer ${user.token}`,
      "content-type": "application/json",
      "idempotency-key": key,
      ...(ctx.args.async ? { prefer: "respond-async" } : {}),
    },
    body: JSON.stringify(body),
  };
}

/** Waits until no row of the run's users is in flight, sweeping as pg_cron would; returns the seconds waited. */
async function drain(ctx: Ctx, maxSeconds: number): Promise<number> {
  const t0 = performance.now();
  let lastSweep = 0;
  while ((performance.now() - t0) / 1000 < maxSeconds) {
    const [r] = await ctx.sql`
      select count(*)::int as n from public.conversations
       where user_id = any(${ctx.users.map((u) => u.id)}::uuid[])
         and processing_status not in ${ctx.sql(TERMINAL)}`;
    if (r.n === 0) break;
    if (performance.now() - lastSweep > 5_000) {
      lastSweep = performance.now();
      await ctx.sql`select private.sweep_conversations(p_grace => interval '5 seconds')`.catch(() => {});
    }
    await sleep(250);
  }
  return (performance.now() - t0) / 1000;
}

async function createUsers(ctx: Omit<Ctx, "users">, n: number, expiresIn: number): Promise<User[]> {
  const users: User[] = [];
  for (let i = 0; i < n; i++) {
    const id = crypto.randomUUID();
    await ctx.sql`
      insert into auth.users (id, email, aud, role, email_confirmed_at)
      values (${id}, ${`load-${ctx.runId}-${i}@bench.local`}, 'authenticated', 'authenticated', now())`;
    users.push({
      id,
      token: await userToken(id, { secret: ctx.env.SUPABASE_JWT_SECRET, expiresIn }),
      reviewItems: [],
    });
    // The load is many times one person's rate on purpose: the per-user generate limits are lifted.
    await liftGenerateLimits(ctx.sql, id);
  }
  return users;
}

/** Two truncated conversations per user, so the review-queue GETs have items to list and open. */
async function seedReviewQueues(ctx: Ctx): Promise<void> {
  const url = `${ctx.env.SUPABASE_URL}/functions/v1/generate-conversation`;
  const restore = await setStandinBehavior(ctx.env.ANTHROPIC_BASE_URL, "truncated");
  try {
    await Promise.all(ctx.users.map(async (u, i) => {
      for (let k = 0; k < SEEDED_PER_USER; k++) {
        const r = await send(
          url,
          generateInit(ctx, u, ctx.bodies[(i + k) % ctx.bodies.length], `load-${ctx.runId}-s-${i}-${k}`),
        );
        if (r.status !== 201) {
          throw new Error(
            `Cannot seed the review queue: generate answered ${r.status} ${r.body.slice(0, 200)}`,
          );
        }
      }
    }));
  } finally {
    await restore();
  }
  await drain(ctx, 60);
  const rows = await ctx.sql`
    select user_id::text, conversation_id::text from public.conversations
     where user_id = any(${ctx.users.map((u) => u.id)}::uuid[]) and requires_manual_review`;
  for (const r of rows) {
    ctx.users.find((u) => u.id === r.user_id)?.reviewItems.push(String(r.conversation_id));
  }
}

interface Timed extends Sample {
  startedAt: number;
}

/** One closed-loop client until `until` (performance.now() time). */
async function client(
  ctx: Ctx,
  index: number,
  until: number,
  samples: Timed[],
  phase: () => "w" | "m",
): Promise<void> {
  const user = ctx.users[index % ctx.users.length];
  // The stand-in's generator (mulberry32): two runs with the same arguments send the same mix.
  const random = seededRandom(index + 1);
  const base = `${ctx.env.SUPABASE_URL}/functions/v1`;
  const get = { headers: { authorization: `Bearer ${user.token}` } };
  let n = 0;
  while (performance.now() < until) {
    const x = random();
    const startedAt = performance.now();
    let endpoint: Endpoint;
    let r: { status: number; ms: number };
    if (x < ctx.args["review-share"] / 2 || (x < ctx.args["review-share"] && user.reviewItems.length === 0)) {
      endpoint = "review_list";
      r = await send(`${base}/review-queue?limit=25`, get);
    } else if (x < ctx.args["review-share"]) {
      endpoint = "review_item";
      r = await send(`${base}/review-queue/${user.reviewItems[n % user.reviewItems.length]}`, get);
    } else {
      endpoint = "generate";
      const key = `load-${ctx.runId}-${phase()}-${index}-${n}`;
      r = await send(
        `${base}/generate-conversation`,
        generateInit(ctx, user, ctx.bodies[(index + n) % ctx.bodies.length], key),
      );
    }
    n++;
    samples.push({ endpoint, status: r.status, ms: r.ms, startedAt });
  }
}

async function reconcile(
  ctx: Ctx,
  accepted: number,
  measuredEndIso: string,
  drainSeconds: number,
): Promise<ConversationCounts> {
  const prefix = `load-${ctx.runId}-m-%`;
  const ids = ctx.users.map((u) => u.id);
  const [c] = await ctx.sql`
    select count(*)::int as rows,
           count(*) filter (where processing_status = 'completed')::int as completed,
           count(*) filter (where processing_status = 'parse_failed')::int as in_review,
           count(*) filter (where processing_status = 'generation_failed')::int as generation_failed,
           count(*) filter (where processing_status not in ${ctx.sql(TERMINAL)})::int as stuck,
           count(*) filter (where processing_status = 'completed' and updated_at <= ${measuredEndIso})::int
             as completed_in_window,
           (select count(*)::int from storage.objects o
             where o.bucket_id = 'conversation-files'
               and o.name in (select 'raw/' || c2.user_id || '/' || c2.conversation_id || '.json'
                                from public.conversations c2
                               where c2.user_id = any(${ids}::uuid[]) and c2.idempotency_key like ${prefix}))
             as raw_objects
      from public.conversations
     where user_id = any(${ids}::uuid[]) and idempotency_key like ${prefix}`;
  const e2e = (await ctx.sql`
    select extract(epoch from updated_at - created_at)::float8 * 1000 as ms from public.conversations
     where user_id = any(${ids}::uuid[]) and idempotency_key like ${prefix} and processing_status = 'completed'
     order by 1`).map((r) => Number(r.ms));
  return {
    accepted,
    rows: c.rows,
    rawObjects: c.raw_objects,
    completed: c.completed,
    inReview: c.in_review,
    generationFailed: c.generation_failed,
    stuck: c.stuck,
    completedInWindow: c.completed_in_window,
    e2eP50Ms: percentile(e2e, 50),
    e2eP99Ms: percentile(e2e, 99),
    drainSeconds,
  };
}

async function main(): Promise<void> {
  const args = readArgs();
  const env = await stack();
  if (
    !isLoopback(env.SUPABASE_URL) || !isLoopback(env.SUPABASE_DB_URL) || !isLoopback(env.ANTHROPIC_BASE_URL)
  ) {
    throw new Error(`Cannot run the load against ${env.SUPABASE_URL}: loopback stacks only`);
  }
  const log = (s: string) => {
    if (!args.json && !args.markdown) console.error(s);
  };
  const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 4, onnotice: () => {} });
  const runId = crypto.randomUUID().slice(0, 8);
  let restoreBehavior: () => Promise<void> = async () => {};
  try {
    await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
    const s = await loadScaffolding(sql);
    const bodies = s.arcs.map((arc, i) => ({
      persona_id: s.personas[i % s.personas.length].id,
      emotional_arc_id: arc.id,
      training_topic_id: s.topics[i % s.topics.length].id,
      tier: arc.tier,
    }));
    const expiresIn = args.warmup + args.duration + args.drain + 900;
    const base = { env, sql, runId, bodies, args };
    const ctx: Ctx = { ...base, users: await createUsers(base, args.users, expiresIn) };
    log(`[bench:load] run ${runId}: ${args.users} users; seeding their review queues`);
    await seedReviewQueues(ctx);
    // Zero latency, schema-valid answers: the stack, not the stand-in, is what is measured.
    restoreBehavior = await setStandinBehavior(env.ANTHROPIC_BASE_URL, "clean");

    const gateway = gatewayPid();
    const t0 = performance.now();
    const memory: MemorySample[] = sampleMemory(gateway, 0);
    const measuredStart = t0 + args.warmup * 1000;
    const measuredEnd = measuredStart + args.duration * 1000;
    const sampler = setInterval(() => {
      memory.push(...sampleMemory(gateway, (performance.now() - t0) / 1000));
    }, args["sample-every"] * 1000);
    let warmSampled = false;
    const warmTimer = setTimeout(() => {
      warmSampled = true;
      memory.push(...sampleMemory(gateway, args.warmup));
    }, args.warmup * 1000);
    log(`[bench:load] ${args.clients} clients: ${args.warmup} s warm-up, then ${args.duration} s measured`);
    const samples: Timed[] = [];
    const phase = () => performance.now() < measuredStart ? "w" as const : "m" as const;
    await Promise.all(
      Array.from({ length: args.clients }, (_, i) => client(ctx, i, measuredEnd, samples, phase)),
    );
    clearInterval(sampler);
    clearTimeout(warmTimer);
    const endT = (performance.now() - t0) / 1000;
    if (!warmSampled) memory.push(...sampleMemory(gateway, args.warmup));
    memory.push(...sampleMemory(gateway, endT));
    const load = loadAverage();
    const measuredEndIso = new Date(Date.now() - (performance.now() - measuredEnd)).toISOString();

    if (args["samples-file"]) {
      const csv = memory.map((m) => `${m.t.toFixed(1)},${m.name},${m.pid},${m.rssKb}`);
      Deno.writeTextFileSync(args["samples-file"], ["t_s,process,pid,rss_kb", ...csv].join("\n") + "\n");
    }
    const measured = samples.filter((x) => x.startedAt >= measuredStart);
    const seconds = args.duration;
    const endpoints = summarize(measured, seconds);
    const accepted = measured.filter((x) => x.endpoint === "generate" && x.status === 201).length;
    log(`[bench:load] ${measured.length} requests measured; draining the pipeline (up to ${args.drain} s)`);
    const drained = await drain(ctx, args.drain);
    const conversations = await reconcile(ctx, accepted, measuredEndIso, drained);

    const report: LoadReport = {
      date: new Date().toISOString().slice(0, 10),
      machine: machine(),
      command: `deno task bench:load ${
        Deno.args.filter((a) => a !== "--json" && a !== "--markdown").join(" ")
      }`.trim(),
      clients: args.clients,
      users: args.users,
      warmupSeconds: args.warmup,
      seconds,
      reviewShare: args["review-share"],
      wait: args.async ? "async" : "parse",
      endpoints,
      totalRps: measured.length / seconds,
      conversations,
      completedPerSecond: conversations.completedInWindow / seconds,
      memory: memoryTrends(memory, args.warmup),
      loadAverage: load,
    };
    if (args.json) console.log(JSON.stringify(report, null, 2));
    else if (args.markdown) console.log(formatMarkdown(report));
    else console.log(formatReport(report));
  } finally {
    await restoreBehavior().catch(() => {});
    await sql.end({ timeout: 2 });
  }
}

if (import.meta.main) {
  let watchdogSeconds = 2100;
  try {
    const a = readArgs();
    watchdogSeconds = a.warmup + a.duration + a.drain + 60 + 180;
  } catch { /* main() reports the bad arguments */ }
  // Bounded whatever happens: a hung request or a stuck drain cannot keep the process alive.
  const watchdog = setTimeout(() => {
    console.error(`[bench:load] stopped by the watchdog after ${watchdogSeconds} s`);
    Deno.exit(1);
  }, watchdogSeconds * 1000);
  Deno.unrefTimer(watchdog);
  try {
    await main();
    Deno.exit(0);
  } catch (err) {
    console.error(`[bench:load] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
