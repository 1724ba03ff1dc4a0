/**
 * Helpers for the review queue's integration tests against the running local stack: the review-queue function
 * over HTTP (as a client calls it), Storage through supabase-js, and SQL for setup and for reading state.
 *
 * The "older parser" fixture: a conversation stored the way generate-conversation stores it (row, then the raw
 * upload; the storage trigger marks it raw_stored), then parsed by the real parse flow in this process with an
 * older parser — one without the jsonrepair step — so it lands in parse_failed stamped with that older version,
 * exactly as it would have before the upgrade. While that happens, wake-ups go to a closed port (the Vault's
 * project_url is pointed away and restored), so the deployed parse-conversation (the current parser) does not
 * race the old one.
 */
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { createSql, type Sql } from "../../../shared/adapters/postgres_sql.ts";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { rawObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { supabaseObjectStore } from "../../../shared/adapters/supabase_object_store.ts";
import { postgresParseQueue } from "../../../shared/adapters/postgres_parse_queue.ts";
import { setLogSink } from "../../../shared/log.ts";
import { createParser } from "../../../shared/parse/mod.ts";
import { parseConversation } from "../../../shared/parse_flow/parse_conversation.ts";
import { functionsUrl, serviceClient, serviceKey, sql, stackEnv } from "../../support/stack.ts";

export const OLD_VERSION = "2025.11.0";

/** Unescaped inner quotes (tests/fixtures/parse/hand): the old parser fails it, jsonrepair recovers it. */
export function quotesRaw(): Uint8Array {
  const text = Deno.readTextFileSync(
    new URL("../../fixtures/parse/hand/jennifer_martinez_unescaped_quotes.txt", import.meta.url),
  );
  return messageBody(text, "end_turn");
}

/** Prose without JSON: every parser version fails it. */
export function proseRaw(): Uint8Array {
  return messageBody(
    "I would rather describe the session in words: the client was anxious about debt.",
    "end_turn",
  );
}

function messageBody(text: string, stopReason: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({
    id: "msg_01ReviewFixture",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 1873, output_tokens: 900 },
  }));
}

let flowSql: Sql | null = null;

/** The parse flow as an older deployment ran it: same queue SQL and Storage, a parser without jsonrepair. */
function oldFlow() {
  flowSql ??= createSql(stackEnv().SUPABASE_DB_URL, { max: 2 });
  let t = 0;
  return {
    queue: postgresParseQueue(flowSql),
    store: supabaseObjectStore(stackEnv().SUPABASE_URL, serviceKey()),
    parse: createParser({ version: OLD_VERSION, steps: ["direct", "extract"] }),
    parserVersion: OLD_VERSION,
    clock: { now: () => new Date(), monotonic: () => (t += 1), sleep: () => Promise.resolve() },
  };
}

export async function closeReview(): Promise<void> {
  await flowSql?.end({ timeout: 2 });
  flowSql = null;
}

async function withLostWakeups<T>(fn: () => Promise<T>): Promise<T> {
  const env = stackEnv();
  await syncSecrets(env.SUPABASE_DB_URL, "http://127.0.0.1:9", env.SUPABASE_SERVICE_ROLE_KEY);
  try {
    return await fn();
  } finally {
    await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
  }
}

/** A conversation of `userId` (seed scaffolding) that the older parser sent to review. */
export async function failedByOldParser(userId: string, raw: Uint8Array): Promise<string> {
  const id = crypto.randomUUID();
  await sql()`
    insert into public.conversations (conversation_id, user_id, processing_status, raw_sha256, tier,
                                      persona_id, emotional_arc_id, training_topic_id, persona_key, topic_key)
    select ${id}, ${userId}, 'generating', ${await sha256Hex(raw)}, 'template',
           (select id from public.personas order by persona_key limit 1),
           (select id from public.emotional_arcs order by arc_key limit 1),
           (select id from public.training_topics order by topic_key limit 1),
           (select persona_key from public.personas order by persona_key limit 1),
           (select topic_key from public.training_topics order by topic_key limit 1)`;
  const previous = setLogSink(() => {});
  try {
    await withLostWakeups(async () => {
      const { error } = await serviceClient().storage.from(CONVERSATION_BUCKET).upload(
        rawObjectPath(userId, id),
        raw,
        { contentType: "application/json" },
      );
      if (error) throw new Error(`raw upload failed: ${error.message}`);
      const result = await parseConversation(oldFlow(), id, "trigger");
      if (result.result !== "parse_failed") {
        throw new Error(`fixture did not fail: ${JSON.stringify(result)}`);
      }
    });
  } finally {
    setLogSink(previous);
  }
  return id;
}

export interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string; issues?: { path: string }[] } };
}

/** One request to the review-queue function through the gateway (verify_jwt on, as deployed). */
export async function review(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${functionsUrl("review-queue")}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Answer["body"];
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

export async function rowOf(id: string): Promise<Record<string, unknown>> {
  const [r] = await sql()`
    select processing_status, requires_manual_review, parse_method_used, parser_version, parse_attempts,
           reviewed_by::text, review_notes, dismissed_reason, file_path, raw_response_path
      from public.conversations where conversation_id = ${id}`;
  return r as Record<string, unknown>;
}

export async function attemptsOf(
  id: string,
): Promise<{ outcome: string; method: string | null; triggered_by: string | null }[]> {
  const rows = await sql()`
    select outcome, method, triggered_by from public.conversation_parse_attempts
     where conversation_id = ${id} order by id`;
  return rows.map((r) => ({
    outcome: String(r.outcome),
    method: r.method === null ? null : String(r.method),
    triggered_by: r.triggered_by === null ? null : String(r.triggered_by),
  }));
}

export async function download(path: string): Promise<Uint8Array | null> {
  const { data, error } = await serviceClient().storage.from(CONVERSATION_BUCKET).download(path);
  if (error || !data) return null;
  return new Uint8Array(await data.arrayBuffer());
}
