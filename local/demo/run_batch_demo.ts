/**
 * The main job's batch mode (`./bin/start --batch N`): the demo's requests go to Claude as ONE Message Batch
 * through generate-batch, the collector (collect-batches, run here every half second instead of pg_cron's
 * minute) stores and splits the results, and the storage trigger and parse-conversation finish each
 * conversation as usual. The outcome has the same shape as the one-by-one demo, so the same results table
 * prints. docs/BATCHES.md.
 */
import type postgres from "postgres";
import { stateRow } from "./run_demo.ts";
import { collectUntilDone, submitBatch } from "../batch_client.ts";
import type { DemoItem } from "./plan.ts";
import { type ConversationState, type DemoOutcome, type ItemResult, TERMINAL_STATUSES } from "./report.ts";

export interface BatchDemoContext {
  url: string;
  serviceKey: string;
  sql: postgres.Sql;
  items: DemoItem[];
  userId: string;
  realClaude: boolean;
  behavior: string | null;
  timeoutMs: number;
  /** Progress lines (stdout). */
  write: (text: string) => void;
}

async function readRows(sql: postgres.Sql, ids: string[]): Promise<Map<string, ConversationState>> {
  const rows = await sql`
    select conversation_id::text, processing_status, parse_method_used, requires_manual_review, turn_count,
           parse_error_message, generation_error, cost_usd::float8 as cost_usd,
           extract(epoch from updated_at - created_at)::float8 as seconds
      from public.conversations where conversation_id = any(${ids}::uuid[])`;
  return new Map(rows.map((r) => {
    const s = stateRow.parse(r);
    return [s.conversation_id, s];
  }));
}

/** Submits, collects, waits for every conversation to settle (or the timeout), and reads the rows back. */
export async function runBatchDemo(ctx: BatchDemoContext): Promise<DemoOutcome> {
  const started = performance.now();
  const ep = { url: ctx.url, serviceKey: ctx.serviceKey };
  const batch = await submitBatch(
    ep,
    ctx.userId,
    ctx.items.map((i) => i.body),
    `demo-batch-${crypto.randomUUID()}`,
  );
  const submitMs = performance.now() - started;
  ctx.write(
    `Batch ${batch.batch_id} (${batch.anthropic_batch_id}) accepted in ${(submitMs / 1000).toFixed(1)} s: ` +
      `${batch.request_count} conversations batch_queued.\n`,
  );
  let last = "";
  const collected = await collectUntilDone(ep, batch.batch_id, {
    timeoutMs: ctx.timeoutMs,
    onRun: (b) => {
      const now = `  batch ${b.state}`;
      if (now !== last) ctx.write(`${now} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
      last = now;
    },
  });
  ctx.write(`  collector tally: ${JSON.stringify(collected.collected_counts)}\n`);
  const ids = batch.conversation_ids;
  let rows = await readRows(ctx.sql, ids);
  let timedOut = false;
  while ([...rows.values()].some((r) => !TERMINAL_STATUSES.has(r.processing_status))) {
    if (performance.now() - started > ctx.timeoutMs) {
      timedOut = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
    rows = await readRows(ctx.sql, ids);
  }
  const results: ItemResult[] = ctx.items.map((item, i) => ({
    item,
    answer: {
      status: 202,
      conversationId: ids[i],
      processingStatus: "batch_queued",
      errorCode: null,
      message: null,
      ms: submitMs,
    },
    row: rows.get(ids[i]) ?? null,
  }));
  return {
    results,
    elapsedMs: performance.now() - started,
    timedOut,
    realClaude: ctx.realClaude,
    behavior: ctx.behavior,
  };
}
