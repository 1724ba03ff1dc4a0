/**
 * The demo batch: N generate-conversation requests over HTTP as a signed-in user (the path a client takes:
 * gateway → verify_jwt → function → Claude or the stand-in → raw upload → storage trigger → pg_net →
 * parse-conversation), then waiting until every conversation is in a terminal state.
 *
 * Reading state is SQL on the stack's database (the local stack has no PostgREST). A wake-up that pg_net lost
 * would otherwise wait for pg_cron's next minute, so once every request is answered the demo runs the sweeper
 * itself every few seconds, exactly as the cron job does (`private.sweep_conversations`).
 *
 * called by: local/main.ts; next: local/demo/report.ts
 */
import { liftGenerateLimits } from "../usage_limits.ts";
import type postgres from "postgres";
import { z } from "zod";
import { userToken } from "../keys.ts";
import type { DemoOptions } from "./options.ts";
import type { DemoItem, Scaffolding } from "./plan.ts";
import { type Progress, type ProgressSnapshot } from "./progress.ts";
import {
  type ConversationState,
  type DemoOutcome,
  type HttpAnswer,
  isSettled,
  type ItemResult,
  statusOf,
  TERMINAL_STATUSES,
} from "./report.ts";

/** The demo user's fixed id, so repeated runs add to one user's history (and one review queue). */
export const DEMO_USER_ID = "de300000-0000-4000-8000-000000000001";
export const DEMO_USER_EMAIL = "demo@local.test";

const POLL_MS = 250;
const SWEEP_EVERY_MS = 5_000;

export interface DemoEnv {
  SUPABASE_URL: string;
  SUPABASE_JWT_SECRET: string;
  ANTHROPIC_BASE_URL: string;
}

export interface DemoContext {
  env: DemoEnv;
  sql: postgres.Sql;
  options: DemoOptions;
  items: DemoItem[];
  userId: string;
  realClaude: boolean;
  progress: Progress;
  now?: () => number;
}

/**
 * The user the batch belongs to: --user-id must exist; otherwise demo@local.test, created on first use. Its
 * per-user generate limits are lifted (a batch of --count 100 passes the default 60 requests a minute).
 */
export async function ensureDemoUser(sql: postgres.Sql, userId: string | null): Promise<string> {
  const id = await findOrCreateDemoUser(sql, userId);
  await liftGenerateLimits(sql, id);
  return id;
}

async function findOrCreateDemoUser(sql: postgres.Sql, userId: string | null): Promise<string> {
  if (userId !== null) {
    const rows = await sql`select id::text from auth.users where id = ${userId}`;
    if (rows.length === 0) {
      throw new Error(`Cannot generate as --user-id ${userId}: no auth.users row has that id`);
    }
    return userId;
  }
  const found = await sql`
    select id::text from auth.users where email = ${DEMO_USER_EMAIL} order by created_at nulls last, id limit 1`;
  if (found.length > 0) return String(found[0].id);
  await sql`
    insert into auth.users (id, email, aud, role, email_confirmed_at, raw_user_meta_data)
    values (${DEMO_USER_ID}, ${DEMO_USER_EMAIL}, 'authenticated', 'authenticated', now(),
            ${sql.json({ name: "Demo user (deno task start)" })})
    on conflict (id) do nothing`;
  return DEMO_USER_ID;
}

/** Active scaffolding rows in a stable order (seed keys sort the same way on every fresh database). */
export async function loadScaffolding(sql: postgres.Sql): Promise<Scaffolding> {
  const [personas, arcs, topics] = await Promise.all([
    sql`select id::text, persona_key as key from public.personas where is_active order by persona_key`,
    sql`select id::text, arc_key as key, tier from public.emotional_arcs where is_active order by arc_key`,
    sql`select id::text, topic_key as key from public.training_topics where is_active order by topic_key`,
  ]);
  const row = z.object({ id: z.string(), key: z.string() });
  return {
    personas: z.array(row).parse(personas),
    arcs: z.array(row.extend({ tier: z.string() })).parse(arcs),
    topics: z.array(row).parse(topics),
  };
}

const behaviorAnswer = z.object({ behavior: z.string().nullable() });

/**
 * Sets the stand-in's default behaviour for the run and returns how to put the previous one back. The admin
 * default is process-wide, so it is restored even when the demo fails.
 */
export async function setStandinBehavior(baseUrl: string, behavior: string): Promise<() => Promise<void>> {
  const admin = `${baseUrl.replace(/\/$/, "")}/__admin/behavior`;
  const before = behaviorAnswer.parse(await (await fetch(admin)).json()).behavior;
  const res = await fetch(admin, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behavior }),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`Cannot use --behavior ${behavior}: the stand-in answered ${res.status} ${text}`);
  }
  return async () => {
    // null restores the environment's default; only when that differs from before was an admin default set.
    const cleared = await fetch(admin, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ behavior: null }),
    });
    const after = behaviorAnswer.parse(await cleared.json()).behavior;
    if (after !== before && before !== null) {
      await fetch(admin, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ behavior: before }),
      }).then((r) => r.body?.cancel());
    }
  };
}

const generateAnswer = z.object({
  conversation_id: z.string().optional(),
  processing_status: z.string().optional(),
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    conversation_id: z.string().optional(),
  }).optional(),
});

/**
 * One request. A dropped connection is retried once with the same Idempotency-Key: if the first attempt did
 * reach the function, the retry gets that conversation back instead of starting a second one.
 */
async function generate(
  url: string,
  token: string,
  item: DemoItem,
  deadline: number,
  now: () => number,
): Promise<HttpAnswer> {
  const t0 = now();
  let lastError = "";
  for (let attempt = 1; attempt <= 2; attempt++) {
    const remaining = deadline - now();
    if (remaining <= 0) break;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "idempotency-key": item.idempotencyKey,
        },
        body: JSON.stringify(item.body),
        signal: AbortSignal.timeout(remaining),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch { /* a gateway error page: reported below with its status */ }
      const parsed = generateAnswer.safeParse(json);
      const body = parsed.success ? parsed.data : {};
      return {
        status: res.status,
        conversationId: body.conversation_id ?? body.error?.conversation_id ?? null,
        processingStatus: body.processing_status ?? null,
        errorCode: res.ok ? null : body.error?.code ?? `http_${res.status}`,
        message: res.ok ? null : body.error?.message ?? text.slice(0, 200),
        ms: now() - t0,
      };
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      if (attempt === 1) await new Promise((r) => setTimeout(r, 1000));
    }
  }
  return {
    status: 0,
    conversationId: null,
    processingStatus: null,
    errorCode: "no_answer",
    message: lastError || "timed out",
    ms: now() - t0,
  };
}

/** A conversation row as the demo's results table reads it (the one-off and the batch demo alike). */
export const stateRow = z.object({
  conversation_id: z.string(),
  processing_status: z.string(),
  parse_method_used: z.string().nullable(),
  requires_manual_review: z.boolean(),
  turn_count: z.number().nullable(),
  parse_error_message: z.string().nullable(),
  generation_error: z.string().nullable(),
  cost_usd: z.number().nullable(),
  seconds: z.number(),
});

/**
 * The rows of the batch, found by the Idempotency-Key each request carried (unique per user): a row is visible
 * from its insert, while Claude is still answering, and even when the HTTP answer never arrives. Answers that
 * name a conversation are also looked up by id (a row the storage trigger rebuilt has no key).
 */
async function readStates(
  sql: postgres.Sql,
  userId: string,
  keys: string[],
  ids: string[],
): Promise<{ byKey: Map<string, ConversationState>; byId: Map<string, ConversationState> }> {
  const byKey = new Map<string, ConversationState>();
  const byId = new Map<string, ConversationState>();
  if (keys.length === 0 && ids.length === 0) return { byKey, byId };
  const rows = await sql`
    select conversation_id::text, idempotency_key, processing_status, parse_method_used, requires_manual_review,
           turn_count, parse_error_message, generation_error, cost_usd::float8 as cost_usd,
           -- a finished row: insert to its last change; one still moving: its age so far
           extract(epoch from case when processing_status in ('completed', 'parse_failed', 'generation_failed')
                                   then updated_at else now() end - created_at)::float8 as seconds
      from public.conversations
     where (user_id = ${userId} and idempotency_key = any(${keys}::text[]))
        or conversation_id = any(${ids}::uuid[])`;
  for (const raw of rows) {
    const { idempotency_key, ...state } = stateRow.extend({ idempotency_key: z.string().nullable() }).parse(
      raw,
    );
    if (idempotency_key) byKey.set(idempotency_key, state);
    byId.set(state.conversation_id, state);
  }
  return { byKey, byId };
}

function snapshot(results: ItemResult[], startedAt: number, now: number): ProgressSnapshot {
  const byStatus: Record<string, number> = {};
  let answered = 0;
  let settled = 0;
  for (const r of results) {
    if (r.answer) answered++;
    if (isSettled(r)) settled++;
    // Between the answer and the next read of the row, the answer's own status stands in for the row's.
    const s = r.row
      ? r.row.processing_status
      : !r.answer
      ? "waiting"
      : r.answer.processingStatus ?? statusOf(r);
    byStatus[s] = (byStatus[s] ?? 0) + 1;
  }
  return { total: results.length, answered, settled, byStatus, elapsedMs: now - startedAt };
}

export async function runDemo(ctx: DemoContext): Promise<DemoOutcome> {
  const now = ctx.now ?? (() => performance.now());
  const startedAt = now();
  const deadline = startedAt + ctx.options.timeoutMs;
  const token = await userToken(ctx.userId, {
    secret: ctx.env.SUPABASE_JWT_SECRET,
    // Valid for the whole wait, and then some: an expired token mid-batch would turn into 401s.
    expiresIn: Math.ceil(ctx.options.timeoutMs / 1000) + 600,
  });
  const url = `${ctx.env.SUPABASE_URL}/functions/v1/generate-conversation`;
  const results: ItemResult[] = ctx.items.map((item) => ({ item, answer: null, row: null }));
  const reported = new Set<number>();
  const report = () => {
    for (const r of results) {
      if (!reported.has(r.item.n) && isSettled(r)) {
        reported.add(r.item.n);
        ctx.progress.settled(r, results.length);
      }
    }
  };

  let next = 0;
  const senders = Array.from({ length: ctx.options.concurrency }, async () => {
    while (next < results.length && now() < deadline) {
      const r = results[next++];
      r.answer = await generate(url, token, r.item, deadline, now);
    }
  });
  let sending = true;
  const allSent = Promise.all(senders).finally(() => {
    sending = false;
  });

  let deadlineHit = false;
  let lastSweep = now();
  let sweepWarned = false;
  let sweeps = 0;
  while (true) {
    const open = results.filter((r) => !(r.row && TERMINAL_STATUSES.has(r.row.processing_status)));
    const states = await readStates(
      ctx.sql,
      ctx.userId,
      open.map((r) => r.item.idempotencyKey),
      open.flatMap((r) => r.answer?.conversationId ? [r.answer.conversationId] : []),
    );
    for (const r of open) {
      const id = r.answer?.conversationId;
      r.row = (id ? states.byId.get(id) : undefined) ?? states.byKey.get(r.item.idempotencyKey) ?? r.row;
    }
    report();
    const snap = snapshot(results, startedAt, now());
    if (!sending && snap.settled === results.length) break;
    if (now() > deadline) {
      deadlineHit = true;
      break;
    }
    ctx.progress.update(snap);
    if (!sending && now() - lastSweep >= SWEEP_EVERY_MS) {
      lastSweep = now();
      try {
        // What pg_cron runs every minute, with a short grace so a wake-up lost seconds ago is sent again now.
        await ctx.sql`select private.sweep_conversations(p_grace => interval '5 seconds')`;
        sweeps++;
        if (sweeps === 1) {
          ctx.progress.note("ran the sweeper (pg_cron's job) to re-dispatch what is still waiting");
        }
      } catch (err) {
        if (!sweepWarned) {
          sweepWarned = true;
          ctx.progress.note(
            `cannot run the sweeper (${
              err instanceof Error ? err.message : String(err)
            }); waiting for pg_cron`,
          );
        }
      }
    }
    const pause = new Promise((r) => setTimeout(r, POLL_MS));
    // While requests are out, wake as soon as the last one is answered; after that, poll at a steady pace.
    await (sending ? Promise.race([pause, allSent]) : pause);
  }
  // Requests still out at the deadline are aborted by their own timeout signal: this returns at once.
  await allSent;
  // Past the deadline, a request aborted by its timeout counts as unfinished too (its row may still be moving).
  const timedOut = deadlineHit || results.some((r) => !isSettled(r));
  ctx.progress.done(snapshot(results, startedAt, now()));
  return {
    results,
    elapsedMs: now() - startedAt,
    timedOut,
    realClaude: ctx.realClaude,
    behavior: ctx.realClaude ? null : ctx.options.behavior,
  };
}
