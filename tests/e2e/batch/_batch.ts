/**
 * Helpers for the batch end-to-end tests: submit through generate-batch (service key + x-user-id), run the
 * collector function as pg_cron would (but without waiting a minute), end a batch at the stand-in, and the end
 * condition: rows = requests, every row terminal, raw objects = succeeded results with their recorded sha256.
 */
import assert from "node:assert/strict";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { GENERATE_BODY, settle } from "../../support/faults.ts";
import { functionsUrl, serviceClient, serviceKey, sql, standinAdmin } from "../../support/stack.ts";

export interface Submitted {
  batch_id: string;
  anthropic_batch_id: string;
  conversation_ids: string[];
}

/** POST /generate-batch with `n` copies of the seed request; asserts the 202. */
export async function submit(userId: string, n: number, key?: string): Promise<Submitted> {
  const res = await fetch(functionsUrl("generate-batch"), {
    method: "POST",
    headers: {
      authorization: `Bearer ${serviceKey()}`,
      "x-user-id": userId,
      "content-type": "application/json",
      ...(key ? { "idempotency-key": key } : {}),
    },
    body: JSON.stringify({ requests: Array.from({ length: n }, () => GENERATE_BODY) }),
  });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  assert.equal(body.conversation_ids.length, n);
  return body;
}

/** One collector run through the deployed function; returns its summary (or the error answer). */
export async function collect(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(functionsUrl("collect-batches"), {
    method: "POST",
    headers: { authorization: `Bearer ${serviceKey()}` },
  });
  return { status: res.status, body: await res.json() };
}

/** The stand-in ends the batch now (every request processed). */
export async function endAtStandin(anthropicBatchId: string): Promise<void> {
  await standinAdmin(`batches/${anthropicBatchId}/end`, { method: "POST", body: "{}" });
}

export async function batchState(batchId: string): Promise<{ state: string; last_error: string | null }> {
  const [row] = await sql()`select state, last_error from public.generation_batches where id = ${batchId}`;
  return { state: String(row.state), last_error: row.last_error as string | null };
}

/** Runs the collector until the batch is collected (or the timeout). Returns the runs it took. */
export async function collectUntilDone(batchId: string, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  for (let runs = 1;; runs++) {
    await collect();
    if ((await batchState(batchId)).state === "collected") return runs;
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `batch ${batchId} not collected after ${runs} runs: ${JSON.stringify(await batchState(batchId))}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const TERMINAL = new Set(["completed", "parse_failed", "generation_failed"]);

/**
 * The end condition of every batch test: rows = requests, every row terminal (nothing batch_queued or in
 * flight after the sweeper), raw objects under the user = succeeded results = rows with a sha256, each
 * object's bytes hashing to the row's sha256, and the collector's tally adding up to the request count.
 */
export async function assertBatchEnded(userId: string, batch: Submitted): Promise<Record<string, number>> {
  await settle(userId, { timeoutMs: 120_000, fastForward: true });
  const rows = await sql()`
    select conversation_id::text as id, processing_status, raw_sha256, generation_error
      from public.conversations where user_id = ${userId}`;
  assert.equal(rows.length, batch.conversation_ids.length, "rows = requests");
  const notTerminal = rows.filter((r) => !TERMINAL.has(String(r.processing_status)));
  assert.deepEqual(notTerminal.map((r) => `${r.id}:${r.processing_status}`), [], "every row terminal");
  const objects = await sql()`
    select name from storage.objects where bucket_id = ${CONVERSATION_BUCKET} and name like ${`raw/${userId}/%`}`;
  const withSha = rows.filter((r) => r.raw_sha256 !== null);
  const [b] = await sql()`select collected_counts, missing_count, request_count from public.generation_batches
                           where id = ${batch.batch_id}`;
  const tally = b.collected_counts as Record<string, number>;
  assert.equal(objects.length, tally.succeeded, "raw objects = succeeded results (no duplicate, none lost)");
  assert.equal(withSha.length, tally.succeeded, "a recorded sha256 for each succeeded result");
  assert.equal(
    tally.succeeded + tally.errored + tally.canceled + tally.expired + tally.missing + tally.unreadable,
    b.request_count,
    "every request reconciled to a result (or reported missing)",
  );
  for (const r of rows) {
    if (r.processing_status === "generation_failed") {
      assert.match(
        String(r.generation_error),
        /^batch_(errored|canceled|expired|result_missing|not_submitted)/,
      );
    }
  }
  const files = serviceClient().storage.from(CONVERSATION_BUCKET);
  const shaOf = new Map(rows.map((r) => [String(r.id), r.raw_sha256 as string | null]));
  for (let i = 0; i < objects.length; i += 16) {
    await Promise.all(
      objects.slice(i, i + 16).map(async (o) => {
        const { data, error } = await files.download(String(o.name));
        assert.equal(error, null);
        const id = String(o.name).split("/")[2].replace(".json", "");
        assert.equal(
          await sha256Hex(new Uint8Array(await data!.arrayBuffer())),
          shaOf.get(id),
          `${o.name} intact`,
        );
      }),
    );
  }
  return tally;
}
