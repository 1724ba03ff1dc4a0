/**
 * Helpers for the fault suite (tests/e2e/faults/, docs/FAULTS.md): inject a fault into the running local stack,
 * drive generations through it, let the pipeline recover, and check that nothing was lost.
 *
 *   setFaults(patch) / getFaults()   the gateway's fault injection, POST|GET /_internal/faults (docs/LOCAL_STACK.md)
 *   setStandinBehavior(b)            the Claude stand-in's default behaviour (null = clean)
 *   healStack()                      Storage up, pg_net running, stand-in default cleared, PostgreSQL accepting
 *                                    connections: every test calls it in `finally`
 *   restartPostgres(mode)            `pg_ctl restart -m fast|immediate` of the stack's own cluster
 *   withDurableCommits(fn)           synchronous_commit on for a crash test (the local cluster runs with it off)
 *   generate(userId, opts)           one POST to generate-conversation (service key + x-user-id)
 *   queuedWakeups(ids) / invokeParse(ids)   pg_net's queued wake-ups for these conversations; a direct parse call
 *   fastForward(userId)              ends this user's leases and backoffs now (instead of sleeping for them)
 *   settle(userId)                   sweeps (as pg_cron would) until no row of the user is in flight
 *   assertNothingLost(userId, answers)   the suite's end condition (below)
 *
 * Each test works on its own fresh user (createTestUser), so assertions never see another test's rows, and
 * pg_cron's own sweeps (every minute, on the same database) can only help: assertions are about end states,
 * never about which sweep got there.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CONVERSATION_BUCKET } from "../../shared/pipeline/object_store.ts";
import { sha256Hex } from "../../shared/pipeline/sha256.ts";
import { PG_BIN } from "../../local/paths.ts";
import { closeSql, serviceClient, serviceKey, sql, stackEnv, standinAdmin } from "./stack.ts";

/** Fixed scaffolding ids from supabase/seed.sql (docs/DATABASE.md). */
export const GENERATE_BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
} as const;

/** States a conversation passes through; a row left in one of them after recovery is stuck. */
export const IN_FLIGHT = ["generating", "raw_stored", "parsing", "raw_spooled"] as const;

// ---------------------------------------------------------------------------------------------------------------
// Fault injection

const faultViewSchema = z.object({
  storage: z.enum(["up", "down", "error500", "hang"]),
  pg_net: z.enum(["running", "paused", "dropping"]),
  storage_since: z.string(),
  pg_net_since: z.string(),
  counters: z.object({
    storage_failed: z.number(),
    storage_held: z.number(),
    pg_net_dropped: z.number(),
    functions_killed: z.number(),
  }),
  killed: z.number().optional(),
});
export type FaultView = z.infer<typeof faultViewSchema>;

export interface FaultPatch {
  storage?: FaultView["storage"];
  pg_net?: FaultView["pg_net"];
  kill_function?: string;
}

export async function setFaults(patch: FaultPatch): Promise<FaultView> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/_internal/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch),
  });
  const body = await res.json();
  if (!res.ok) {
    throw new Error(`Cannot set faults ${JSON.stringify(patch)}: ${res.status} ${JSON.stringify(body)}`);
  }
  return faultViewSchema.parse(body);
}

export async function getFaults(): Promise<FaultView> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/_internal/faults`);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(
      `Cannot read faults: the gateway answered ${res.status} (restart it with deno task stack:start)`,
    );
  }
  return faultViewSchema.parse(await res.json());
}

export async function setStandinBehavior(behavior: string | null): Promise<void> {
  await standinAdmin("behavior", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behavior }),
  });
}

/** Every fault off. Safe to call in `finally` whatever state the test left (also waits for PostgreSQL). */
export async function healStack(): Promise<void> {
  const errors: unknown[] = [];
  await setFaults({ storage: "up", pg_net: "running" }).catch((e) => errors.push(e));
  await setStandinBehavior(null).catch((e) => errors.push(e));
  await waitForPostgres(30_000).catch((e) => errors.push(e));
  if (errors.length > 0) throw new AggregateError(errors, "Cannot restore the stack to health");
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

const isRoot = Deno.uid() === 0;

/** Waits until a query succeeds on the shared pool (dropping connections the restart closed). */
export async function waitForPostgres(timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  let last: unknown = null;
  while (performance.now() - started < timeoutMs) {
    try {
      await sql()`select 1`;
      return performance.now() - started;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`PostgreSQL did not accept queries within ${timeoutMs} ms: ${String(last)}`);
}

/**
 * Restarts the stack's own cluster (found through `data_directory`, so only the database this stack uses is
 * touched): `fast` is a clean shutdown (sessions end with 57P01, unlogged tables survive); `immediate` is a crash
 * (no checkpoint: crash recovery at start, and UNLOGGED tables — pg_net's queue — come back empty). Returns the
 * milliseconds from the command to the first successful query.
 */
export async function restartPostgres(mode: "fast" | "immediate"): Promise<number> {
  const [row] = await sql()`select current_setting('data_directory') as dir`;
  const data = String(row.dir);
  const log = join(dirname(data), "postgres.log");
  const exe = join(PG_BIN, "pg_ctl");
  const args = ["-D", data, "-l", log, "-m", mode, "-w", "-t", "30", "restart"];
  const started = performance.now();
  const out = await new Deno.Command(isRoot ? "runuser" : exe, {
    args: isRoot ? ["-u", "postgres", "--", exe, ...args] : args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `Cannot restart PostgreSQL (${data}): pg_ctl exited ${out.code}: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  // This process's pool may hold connections the restart broke (see shared/adapters/postgres_healing_sql.ts): start afresh.
  await closeSql();
  await waitForPostgres();
  return performance.now() - started;
}

/**
 * Runs `fn` with `synchronous_commit = on` cluster-wide. The local cluster trades durability for speed
 * (`synchronous_commit = off`, docs/DEVELOPMENT.md): a crash then loses the last fraction of a second of
 * *committed* transactions — an upload's object row, a claim — which hosted Supabase (synchronous_commit on)
 * never does. A crash test needs the hosted guarantee, so it turns it on for its duration (ALTER SYSTEM, also
 * honoured by the restarted server) and resets it afterwards.
 */
export async function withDurableCommits<T>(fn: () => Promise<T>): Promise<T> {
  await sql().unsafe("alter system set synchronous_commit = 'on'");
  await sql()`select pg_reload_conf()`;
  try {
    return await fn();
  } finally {
    await waitForPostgres();
    await sql().unsafe("alter system reset synchronous_commit");
    await sql()`select pg_reload_conf()`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Generations

export interface GenerateAnswer {
  status: number;
  conversationId: string | null;
  processingStatus: string | null;
  errorCode: string | null;
  retryAfter: string | null;
  ms: number;
}

/** One generation as the checklist's smoke test makes it: service key + x-user-id. */
export async function generate(
  userId: string,
  opts: { respondAsync?: boolean } = {},
): Promise<GenerateAnswer> {
  const started = performance.now();
  const headers: Record<string, string> = {
    authorization: `Bearer ${serviceKey()}`,
    "x-user-id": userId,
    "content-type": "application/json",
  };
  // respond-async: answer as soon as the raw response is stored, without waiting for the parse.
  if (opts.respondAsync) headers.prefer = "respond-async";
  const res = await fetch(`${stackEnv().SUPABASE_URL}/functions/v1/generate-conversation`, {
    method: "POST",
    headers,
    body: JSON.stringify(GENERATE_BODY),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch { /* a platform error page: keep the status */ }
  const error = (body.error ?? null) as Record<string, unknown> | null;
  const id = body.conversation_id ?? error?.conversation_id ?? null;
  return {
    status: res.status,
    conversationId: typeof id === "string" ? id : null,
    processingStatus: typeof body.processing_status === "string" ? body.processing_status : null,
    errorCode: typeof error?.code === "string" ? error.code : null,
    retryAfter: res.headers.get("retry-after"),
    ms: performance.now() - started,
  };
}

/** `n` generations at once. */
export function generateMany(
  userId: string,
  n: number,
  opts: { respondAsync?: boolean; staggerMs?: number } = {},
): Promise<GenerateAnswer[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    if (opts.staggerMs) await new Promise((r) => setTimeout(r, i * opts.staggerMs!));
    return await generate(userId, opts);
  }));
}

/** Queued pg_net requests that would wake parse-conversation for any of these conversations (one id or a batch). */
export async function queuedWakeups(ids: readonly string[]): Promise<number> {
  const [r] = await sql()`
    select count(*)::int as n from net.http_request_queue q,
           lateral (select convert_from(q.body, 'utf8')::jsonb as b) j
     where q.url like '%/functions/v1/parse-conversation'
       and (j.b ->> 'conversation_id' = any(${ids as string[]})
            or exists (select 1 from jsonb_array_elements_text(coalesce(j.b -> 'conversation_ids', '[]'))
                        as x(id) where x.id = any(${ids as string[]})))`;
  return r.n;
}

/** parse-conversation called as pg_net calls it (service key); resolves with the HTTP status. */
export async function invokeParse(conversationIds: readonly string[]): Promise<number> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/functions/v1/parse-conversation`, {
    method: "POST",
    headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
    body: JSON.stringify({ conversation_ids: conversationIds, source: "manual" }),
  });
  await res.body?.cancel();
  return res.status;
}

export async function statusCounts(userId: string): Promise<Record<string, number>> {
  const rows = await sql()`
    select processing_status, count(*)::int as n from public.conversations where user_id = ${userId} group by 1`;
  return Object.fromEntries(rows.map((r) => [String(r.processing_status), Number(r.n)]));
}

/** Polls until `check` holds; `what` names it in the timeout error. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------------------------
// Time

/**
 * Ends this user's waiting periods now, as if the clock had moved on: parse claims (60 s lease), parse backoffs
 * (10 s · 2ⁿ) and spool deferrals (30 s · 2ⁿ). The sweeper's `p_now` cannot do this alone: it would expire a
 * claim, but the row's next attempt is then due at that future `p_now`, while parse-conversation claims with the
 * real clock. Only timers are moved; statuses are left to the sweeper and the functions. Returns what was moved.
 */
export async function fastForward(
  userId: string,
): Promise<{ claims: number; backoffs: number; spool: number }> {
  const claims = await sql()`
    update public.conversations set claimed_until = now() - interval '1 millisecond'
     where user_id = ${userId} and processing_status = 'parsing' and claimed_until >= now()`;
  const backoffs = await sql()`
    update public.conversations set next_attempt_at = now()
     where user_id = ${userId} and processing_status = 'raw_stored' and next_attempt_at > now()`;
  const spool = await sql()`
    update public.raw_response_spool set next_attempt_at = now()
     where user_id = ${userId} and next_attempt_at > now()`;
  return { claims: claims.count, backoffs: backoffs.count, spool: spool.count };
}

export interface SettleReport {
  ms: number;
  sweeps: number;
  fastForwarded: { claims: number; backoffs: number; spool: number };
  counts: Record<string, number>;
}

/**
 * Runs the sweeper (grace 0: everything due is dispatched), as pg_cron would but every `sweepEveryMs` instead of
 * every minute, and polls every 50 ms until no row of the user is in flight. With `fastForward`, each sweep is
 * preceded by ending the user's leases and backoffs (see fastForward()). `ms` is the time to the last row settling.
 */
export async function settle(
  userId: string,
  opts: { timeoutMs?: number; sweepEveryMs?: number; fastForward?: boolean } = {},
): Promise<SettleReport> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const sweepEveryMs = opts.sweepEveryMs ?? 1000;
  const moved = { claims: 0, backoffs: 0, spool: 0 };
  let sweeps = 0;
  let lastSweep = -Infinity;
  while (true) {
    const counts = await statusCounts(userId);
    const inFlight = IN_FLIGHT.reduce((n, s) => n + (counts[s] ?? 0), 0);
    if (inFlight === 0) return { ms: performance.now() - started, sweeps, fastForwarded: moved, counts };
    if (performance.now() - started > timeoutMs) {
      const stuck = await sql()`
        select conversation_id, processing_status, raw_sha256 is not null as has_sha, generation_attempts,
               parse_attempts, claimed_until, next_attempt_at, created_at
          from public.conversations
         where user_id = ${userId} and processing_status in ${sql()(IN_FLIGHT)}`;
      throw new Error(
        `Rows still in flight after ${timeoutMs} ms and ${sweeps} sweeps: ${JSON.stringify(counts)} ` +
          JSON.stringify(stuck),
      );
    }
    if (performance.now() - lastSweep >= sweepEveryMs) {
      if (opts.fastForward) {
        const m = await fastForward(userId);
        moved.claims += m.claims;
        moved.backoffs += m.backoffs;
        moved.spool += m.spool;
      }
      await sql()`select private.sweep_conversations(p_grace => interval '0 seconds')`;
      sweeps++;
      lastSweep = performance.now();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The end condition

const endRow = z.object({
  conversation_id: z.string(),
  processing_status: z.string(),
  raw_response_path: z.string().nullable(),
  raw_sha256: z.string().nullable(),
  file_path: z.string().nullable(),
  requires_manual_review: z.boolean().nullable(),
  parse_error_message: z.string().nullable(),
  generation_error: z.unknown(),
  raw_object: z.string().nullable(),
  final_object: z.string().nullable(),
  spooled: z.number(),
  attempts_logged: z.number(),
});
export type EndRow = z.infer<typeof endRow>;

export async function endRows(userId: string): Promise<EndRow[]> {
  const rows = await sql()`
    select c.conversation_id::text, c.processing_status, c.raw_response_path, c.raw_sha256, c.file_path,
           c.requires_manual_review, c.parse_error_message, c.generation_error,
           (select o.name from storage.objects o
             where o.bucket_id = ${CONVERSATION_BUCKET}
               and o.name = 'raw/' || c.user_id || '/' || c.conversation_id || '.json') as raw_object,
           (select o.name from storage.objects o
             where o.bucket_id = ${CONVERSATION_BUCKET} and o.name = c.file_path) as final_object,
           (select count(*)::int from public.raw_response_spool s
             where s.conversation_id = c.conversation_id) as spooled,
           (select count(*)::int from public.conversation_parse_attempts a
             where a.conversation_id = c.conversation_id) as attempts_logged
      from public.conversations c
     where c.user_id = ${userId}
     order by c.created_at`;
  return rows.map((r) => endRow.parse(r));
}

/**
 * Nothing lost, once the fault has cleared and the sweeper has run:
 *   - no row of the user is in flight (generating, raw_stored, parsing, raw_spooled);
 *   - every answer that names a conversation names a row of this user;
 *   - every 2xx answer (Claude answered): the row is completed (with its final file) or parse_failed (in review,
 *     with a reason), its raw object is in Storage and its bytes still hash to the sha256 recorded at generation;
 *   - generation_failed only where Claude never answered usably: no raw object, no spool row, no sha256, an error
 *     recorded — nothing half-written;
 *   - the spool holds nothing of the user, and raw_orphans lists nothing of the user;
 *   - raw objects under raw/{user}/ = rows that reached Storage.
 * Returns the rows for test-specific checks.
 */
export async function assertNothingLost(
  userId: string,
  answers: readonly GenerateAnswer[],
  opts: { verifyBytes?: boolean } = {},
): Promise<EndRow[]> {
  const rows = await endRows(userId);
  const byId = new Map(rows.map((r) => [r.conversation_id, r]));
  const stuck = rows.filter((r) => (IN_FLIGHT as readonly string[]).includes(r.processing_status));
  assert.deepEqual(stuck.map((r) => `${r.conversation_id}:${r.processing_status}`), [], "no row is stuck");

  for (const a of answers) {
    if (a.conversationId === null) continue;
    const r = byId.get(a.conversationId);
    assert.ok(r, `the answer ${a.status} names conversation ${a.conversationId}, which has a row`);
    if (a.status >= 200 && a.status < 300) {
      assert.ok(
        r.processing_status === "completed" || r.processing_status === "parse_failed",
        `${a.conversationId}: Claude answered (HTTP ${a.status}), so it ends completed or parse_failed, not ${r.processing_status}`,
      );
    }
  }

  for (const r of rows) {
    const ctx = `${r.conversation_id} (${r.processing_status})`;
    if (r.processing_status === "completed" || r.processing_status === "parse_failed") {
      assert.ok(r.raw_object, `${ctx}: its raw object is in Storage`);
      assert.equal(r.raw_response_path, r.raw_object, `${ctx}: raw_response_path names the object`);
      assert.equal(r.spooled, 0, `${ctx}: no spool row is left`);
      assert.ok(r.attempts_logged > 0, `${ctx}: the parse is in the attempts log`);
      if (r.processing_status === "completed") {
        assert.ok(r.final_object, `${ctx}: the final file exists`);
        assert.equal(r.requires_manual_review, false, `${ctx}: not in review`);
      } else {
        assert.equal(r.requires_manual_review, true, `${ctx}: in review`);
        assert.ok(r.parse_error_message, `${ctx}: with a reason`);
      }
    } else if (r.processing_status === "generation_failed") {
      assert.equal(r.raw_object, null, `${ctx}: Claude never answered, so no raw object`);
      assert.equal(r.spooled, 0, `${ctx}: and nothing spooled`);
      assert.equal(r.raw_sha256, null, `${ctx}: and no sha256 recorded`);
      assert.ok(r.generation_error, `${ctx}: the failure is recorded`);
    }
  }

  if (opts.verifyBytes ?? true) {
    const store = serviceClient().storage.from(CONVERSATION_BUCKET);
    for (const r of rows.filter((x) => x.raw_object !== null)) {
      const { data, error } = await store.download(r.raw_object!);
      assert.ok(data && !error, `${r.conversation_id}: its raw object downloads (${error?.message})`);
      const sha = await sha256Hex(new Uint8Array(await data.arrayBuffer()));
      assert.equal(sha, r.raw_sha256, `${r.conversation_id}: the stored bytes are the ones Claude sent`);
    }
  }

  const [{ spool, orphans, objects }] = await sql()`
    select (select count(*)::int from public.raw_response_spool where user_id = ${userId}) as spool,
           (select count(*)::int from public.raw_orphans where user_id = ${userId}) as orphans,
           (select count(*)::int from storage.objects
             where bucket_id = ${CONVERSATION_BUCKET} and name like ${`raw/${userId}/%`}) as objects`;
  assert.equal(spool, 0, "the spool holds nothing of this user");
  assert.equal(orphans, 0, "raw_orphans lists nothing of this user");
  assert.equal(
    objects,
    rows.filter((r) => r.raw_object !== null).length,
    "every raw object of this user belongs to a row",
  );
  return rows;
}

/** One JSON line per fault with the figures docs/FAULTS.md quotes. */
export function report(fault: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ fault, ...figures }));
}

export function roundMs(ms: number): number {
  return Math.round(ms);
}
