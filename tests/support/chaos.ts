/**
 * The seeded chaos run (docs/FAULTS.md "Chaos"): concurrent generations through the local stack while faults are
 * applied at random — one at a time and overlapping (a generate worker killed during a Storage outage, during a
 * PostgreSQL restart, mid-stream) — then heal, sweep, and check every invariant:
 *
 *   - the fault suite's end condition (assertNothingLost: no row in flight, every 2xx stored and its bytes hashing
 *     to the recorded sha256, generation_failed only without an answer, no spool row, no orphan);
 *   - no row of the run outside a terminal state (completed, parse_failed, generation_failed);
 *   - every answer the stand-in sent (its stream's last event written, GET /__admin/streams) is stored (completed
 *     or parse_failed, with its raw object) or its loss is recorded (generation_failed, code worker_lost); a
 *     stream cut before its end may also end as a Claude failure.
 *
 * Between the heal and the checks the run does what an operator does after `answers_lost` fires: `deno task
 * recover` stores the answers killed workers had logged ahead (shared/generate/log_ahead.ts).
 *
 * The cluster runs with `synchronous_commit = on` for the whole run (withDurableCommits), as hosted Supabase does.
 * Everything random comes from one seed (printed), so a failing run can be replayed: the fault schedule and the
 * request pacing repeat exactly; what the OS scheduler does with them does not.
 *
 * used by: tests/e2e/chaos/chaos_test.ts (short run in ./bin/test), cli/chaos.ts (`deno task chaos --runs N`)
 */
import assert from "node:assert/strict";
import { z } from "zod";
import {
  assertNothingLost,
  endRows,
  generate,
  type GenerateAnswer,
  healStack,
  restartPostgres,
  setFaults,
  setStandinBehavior,
  withDurableCommits,
} from "./faults.ts";
import { seededRandom } from "../../local/claude_standin/behavior.ts";
import { createTestUser, sql, standinAdmin } from "./stack.ts";

export interface ChaosOptions {
  seed: number;
  generations: number;
  concurrency: number;
  /** The generations are paced to start over about this long, so the faults meet them. */
  spreadMs: number;
  /** Allow PostgreSQL restarts and crashes (needs the stack's own cluster). */
  postgres: boolean;
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  generations: number;
  ms: number;
  faults: Record<string, number>;
  answers: Record<string, number>;
  end: Record<string, number>;
  streams_sent: number;
  answers_lost_recorded: number;
  /** Of those, answers the stand-in sent whole (its last event written) that no store took. */
  complete_answers_lost: number;
  /** For each: ms from the stand-in's last event to the nearest kill, signed (null: no kill in the run). */
  complete_lost_ms_to_kill: (number | null)[];
  /** Answers `deno task recover` stored from the log-ahead's lines (rows closed as worker_lost before). */
  recovered_from_log: number;
  /** Spool rows the run's killed workers left for the sweeper (before the drain), by kind. */
  checkpoints_left: number;
  write_ahead_left: number;
  spooled_left: number;
  /** Rows that ended in review as truncated streams (checkpoints flushed, or streams cut by the stand-in). */
  truncated_in_review: number;
  closed_as_worker_lost: number;
  settle_ms: number;
  sweeps: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TERMINAL = ["completed", "parse_failed", "generation_failed"];

/** The stand-in's default behaviour during the run: half the answers need repair, some fail and are retried. */
const BASE_BEHAVIOR = "mixed";
/** A long stream (events spread over 7 s): with the default 5 s checkpoint cadence it is checkpointed once. */
const DRIP_BEHAVIOR = "drip:7000+mixed";

type Scenario =
  | "storage_outage"
  | "kill_during_storage_outage"
  | "kill_during_postgres_restart"
  | "kill_mid_stream"
  | "kill"
  | "pg_net_fault"
  | "claude_529_storm"
  | "postgres_restart"
  | "postgres_crash";

const OVERLAPPING: Scenario[] = [
  "kill_during_storage_outage",
  "kill_during_postgres_restart",
  "kill_mid_stream",
];
const SINGLE: Scenario[] = [
  "storage_outage",
  "kill",
  "pg_net_fault",
  "claude_529_storm",
  "postgres_restart",
  "postgres_crash",
];

async function applyScenario(s: Scenario, rnd: () => number, kills: number[]): Promise<void> {
  const killGenerate = () => {
    kills.push(Date.now());
    return setFaults({ kill_function: "generate-conversation" });
  };
  const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
  switch (s) {
    case "storage_outage":
    case "kill_during_storage_outage": {
      const mode = (["down", "error500", "hang"] as const)[between(0, 3)];
      await setFaults({ storage: mode });
      await sleep(between(600, 1800));
      if (s === "kill_during_storage_outage") {
        await killGenerate();
        await sleep(between(200, 800));
      }
      await setFaults({ storage: "up" });
      return;
    }
    case "kill_during_postgres_restart": {
      const mode = rnd() < 0.5 ? "fast" : "immediate";
      const restart = restartPostgres(mode);
      await sleep(between(20, 200));
      await killGenerate();
      await restart;
      return;
    }
    case "postgres_restart":
      await restartPostgres("fast");
      return;
    case "postgres_crash":
      await restartPostgres("immediate");
      return;
    case "kill_mid_stream":
      // New generations stream for 7 s; the kill lands after the first checkpoint (5 s) of the earliest ones.
      await setStandinBehavior(DRIP_BEHAVIOR);
      await sleep(between(5600, 6600));
      await killGenerate();
      await setStandinBehavior(BASE_BEHAVIOR);
      return;
    case "kill":
      await killGenerate();
      return;
    case "pg_net_fault":
      await setFaults({ pg_net: rnd() < 0.5 ? "paused" : "dropping" });
      await sleep(between(500, 2000));
      await setFaults({ pg_net: "running" });
      return;
    case "claude_529_storm":
      await setStandinBehavior("overloaded");
      await sleep(between(500, 1500));
      await setStandinBehavior(BASE_BEHAVIOR);
      return;
  }
}

const streamSchema = z.array(z.object({
  seed: z.string(),
  at: z.string(),
  complete: z.boolean(),
  events: z.number(),
}));

/**
 * Moves this user's timers on, gently: write-ahead and checkpoint leases and spool backoffs end now (the run is
 * over: no generate worker of it is alive), parse backoffs end now, and a parse claim is expired only when it was
 * taken more than 10 s ago (a 60 s lease with more than 50 s left is a parse still running: expiring it would
 * only make a live worker lose its claim and start a livelock of re-claims on a loaded machine).
 */
async function fastForwardGently(userId: string): Promise<void> {
  await sql()`
    update public.conversations set claimed_until = now() - interval '1 millisecond'
     where user_id = ${userId} and processing_status = 'parsing'
       and claimed_until >= now() and claimed_until < now() + interval '50 seconds'`;
  await sql()`
    update public.conversations set next_attempt_at = now()
     where user_id = ${userId} and processing_status = 'raw_stored' and next_attempt_at > now()`;
  await sql()`
    update public.raw_response_spool set next_attempt_at = now()
     where user_id = ${userId} and next_attempt_at > now()`;
}

/**
 * Sweeps (as pg_cron would, every second instead of every minute) until no row of the user is waiting: nothing
 * in the spool and nothing raw_stored / parsing / raw_spooled (and, with `generatingToo`, nothing generating).
 */
async function sweepUntilQuiet(userId: string, timeoutMs: number, generatingToo: boolean): Promise<number> {
  const started = performance.now();
  let sweeps = 0;
  while (true) {
    const [w] = await sql()`
      select (select count(*)::int from public.raw_response_spool where user_id = ${userId}) as spool,
             (select count(*)::int from public.conversations
               where user_id = ${userId}
                 and processing_status in ('raw_stored', 'parsing', 'raw_spooled')) as moving,
             (select count(*)::int from public.conversations
               where user_id = ${userId} and processing_status = 'generating') as generating`;
    if (w.spool === 0 && w.moving === 0 && (!generatingToo || w.generating === 0)) return sweeps;
    if (performance.now() - started > timeoutMs) {
      throw new Error(
        `Rows still waiting after ${timeoutMs} ms and ${sweeps} sweeps: spool ${w.spool}, ` +
          `raw_stored/parsing/raw_spooled ${w.moving}, generating ${w.generating}`,
      );
    }
    await fastForwardGently(userId);
    await sql()`select private.sweep_conversations(p_grace => interval '0 seconds')`;
    sweeps++;
    await sleep(1000);
  }
}

const recoverReport = z.array(
  z.object({ conversation_id: z.string(), action: z.string(), reason: z.string() }),
);

/**
 * `deno task recover` as an operator runs it (cli/recover.ts, a separate process against this stack: it reads
 * the gateway's log of the functions' lines). Returns how many answers it stored; throws when it failed.
 */
async function recoverFromLog(): Promise<number> {
  const cli = new URL("../../cli/recover.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli.pathname, "--json"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `recover failed (${out.code}): ${new TextDecoder().decode(out.stderr).slice(-2000)} ${text}`,
    );
  }
  return recoverReport.parse(JSON.parse(text)).filter((i) => i.action === "restored").length;
}

/**
 * The abandoned-generation check as pg_cron runs it, for this user only and without waiting 30 minutes: the
 * user's generating rows are aged past the threshold (triggers off for that one update, so updated_at keeps the
 * given value), then private.fail_abandoned_generations() closes those no durable write holds. Only called once
 * every request of the run has been answered: no worker of the run is alive.
 */
async function closeAbandoned(userId: string): Promise<number> {
  await sql().begin(async (tx) => {
    await tx`set local session_replication_role = replica`;
    await tx`update public.conversations set updated_at = now() - interval '31 minutes'
              where user_id = ${userId} and processing_status = 'generating'`;
  });
  const [r] = await sql()`select private.fail_abandoned_generations() as n`;
  return Number(r.n);
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const rnd = seededRandom(opts.seed);
  const user = await createTestUser();
  const started = performance.now();
  const runStartIso = new Date(Date.now() - 1000).toISOString();
  const faults: Record<string, number> = {};
  const answers: GenerateAnswer[] = [];
  const kills: number[] = [];

  // The schedule: the three overlapping faults first (seeded order), then a seeded mix, 0.5–3 s apart.
  const scenarios: Scenario[] = [...OVERLAPPING].sort(() => rnd() - 0.5);
  const pool: Scenario[] = [...SINGLE, ...OVERLAPPING].filter((s) =>
    opts.postgres || !s.includes("postgres")
  );
  const firstRound = scenarios.filter((s) => opts.postgres || !s.includes("postgres"));
  const gapsMs = Array.from({ length: 200 }, () => 500 + Math.floor(rnd() * 2500));
  const picks = Array.from({ length: 200 }, () => pool[Math.floor(rnd() * pool.length)]);
  const pacing = opts.spreadMs / opts.generations;

  await withDurableCommits(async () => {
    try {
      await setStandinBehavior(BASE_BEHAVIOR);
      let next = 0;
      let done = false;
      const clients = Array.from({ length: opts.concurrency }, async () => {
        while (next < opts.generations) {
          const i = next++;
          const due = started + i * pacing;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
          try {
            answers.push(await generate(user.id, { respondAsync: true }));
          } catch (err) {
            // The connection itself failed (a gateway hiccup): no answer, nothing acknowledged.
            answers.push({
              status: 0,
              conversationId: null,
              processingStatus: null,
              errorCode: String(err).slice(0, 80),
              retryAfter: null,
              ms: 0,
            });
          }
        }
      });
      const chaos = (async () => {
        const schedule = [...firstRound, ...picks];
        for (let k = 0; k < schedule.length && !done; k++) {
          await sleep(gapsMs[k]);
          if (done) break;
          const s = schedule[k];
          faults[s] = (faults[s] ?? 0) + 1;
          log(
            JSON.stringify({
              chaos: "fault",
              seed: opts.seed,
              fault: s,
              at_ms: Math.round(performance.now() - started),
            }),
          );
          await applyScenario(s, rnd, kills);
        }
      })();
      await Promise.all(clients);
      done = true;
      await chaos;
    } finally {
      await healStack();
    }
  });

  // Heal, then let uploads that were still on their way land (a worker may be gone while its upload is not).
  await sleep(2000);
  // What the killed workers left in the spool for the sweeper: write-ahead copies and stream checkpoints.
  const left = await sql()`
    select kind, count(*)::int as n from public.raw_response_spool where user_id = ${user.id} group by kind`;
  const leftBy = Object.fromEntries(left.map((r) => [String(r.kind), Number(r.n)]));
  const settleStart = performance.now();
  const sweepTimeout = Math.max(60_000, opts.generations * 500);
  let sweeps = await sweepUntilQuiet(user.id, sweepTimeout, false);
  const closed = await closeAbandoned(user.id);
  // The operator's step after `answers_lost` fires (docs/RUNBOOK.md): what killed workers had logged ahead is
  // stored from the function log, then parsed like any other answer.
  const recovered = await recoverFromLog();
  sweeps += await sweepUntilQuiet(user.id, sweepTimeout, true);
  const settleMs = performance.now() - settleStart;

  // Invariants.
  const rows = await assertNothingLost(user.id, answers);
  const outside = rows.filter((r) => !TERMINAL.includes(r.processing_status));
  assert.deepEqual(outside.map((r) => r.conversation_id), [], "no row outside a terminal state");

  const [codes] = [
    await sql()`
    select conversation_id::text as id, generation_error_code as code, truncated, stop_reason,
           (select count(*)::int from public.conversation_parse_attempts a
             where a.conversation_id = c.conversation_id) as attempts
      from public.conversations c where user_id = ${user.id}`,
  ];
  const byId = new Map(rows.map((r) => [r.conversation_id, r]));
  const codeOf = new Map(codes.map((c) => [String(c.id), c.code as string | null]));
  const streams = streamSchema.parse(await standinAdmin("streams")).filter((s) => s.at >= runStartIso);
  let sent = 0;
  let lostRecorded = 0;
  let completeLost = 0;
  const completeLostGaps: (number | null)[] = [];
  for (const s of streams) {
    const row = byId.get(s.seed);
    if (!row) {
      const [other] = await sql()`select 1 from public.conversations where conversation_id::text = ${s.seed}`;
      assert.ok(other, `the stand-in answered conversation ${s.seed}, which has no row at all`);
      continue; // another user's conversation (not this run's)
    }
    sent++;
    const stored = row.processing_status === "completed" || row.processing_status === "parse_failed";
    const lost = row.processing_status === "generation_failed" && codeOf.get(s.seed) === "worker_lost";
    if (lost) lostRecorded++;
    if (lost && s.complete) {
      completeLost++;
      // The kill nearest the stand-in's last event, signed: negative when the kill came first (the answer was
      // written to a dying worker), positive when the worker had that long to read, assemble and log it.
      const at = Date.parse(s.at);
      const nearest = kills.reduce<number | null>(
        (best, k) => best === null || Math.abs(k - at) < Math.abs(best - at) ? k : best,
        null,
      );
      completeLostGaps.push(nearest === null ? null : nearest - at);
    }
    assert.ok(
      stored || lost || (!s.complete && row.processing_status === "generation_failed"),
      `${s.seed}: the stand-in sent its answer (${
        s.complete ? "complete" : "cut"
      }), so it is stored or its ` +
        `loss recorded; it is ${row.processing_status} (${codeOf.get(s.seed) ?? "no code"})`,
    );
    if (stored) assert.ok(row.raw_object, `${s.seed}: stored means its raw object exists`);
  }
  const truncatedInReview = codes.filter((c) =>
    c.truncated === true && c.stop_reason === null &&
    byId.get(String(c.id))?.processing_status === "parse_failed"
  ).length;
  const count = (xs: string[]) =>
    xs.reduce<Record<string, number>>((m, k) => ((m[k] = (m[k] ?? 0) + 1), m), {});
  const report: ChaosReport = {
    seed: opts.seed,
    generations: opts.generations,
    ms: Math.round(performance.now() - started),
    faults,
    answers: count(answers.map((a) => String(a.status))),
    end: count((await endRows(user.id)).map((r) => r.processing_status)),
    streams_sent: sent,
    answers_lost_recorded: lostRecorded,
    complete_answers_lost: completeLost,
    complete_lost_ms_to_kill: completeLostGaps,
    recovered_from_log: recovered,
    checkpoints_left: leftBy.checkpoint ?? 0,
    write_ahead_left: leftBy.write_ahead ?? 0,
    spooled_left: leftBy.spooled ?? 0,
    truncated_in_review: truncatedInReview,
    closed_as_worker_lost: closed,
    settle_ms: Math.round(settleMs),
    sweeps,
  };
  log(JSON.stringify({ chaos: "run", ...report }));
  return report;
}
