/**
 * Helpers for the parse pipeline's integration and end-to-end tests, against the running local stack
 * (`deno task stack:start`; the test runner starts it). Everything goes through the interfaces production uses:
 * supabase-js Storage uploads as the service role (what generate-conversation does), the storage trigger, pg_net,
 * the functions host, and SQL for reading state and for calling the sweeper as pg_cron would.
 */
import postgres from "postgres";
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { z } from "zod";
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { rawObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { stackEnv } from "../../support/stack.ts";

export { stackEnv };

let client: postgres.Sql | null = null;
/** One shared connection pool for the test module; closed by `closePipeline()`. */
export function db(): postgres.Sql {
  client ??= postgres(stackEnv().SUPABASE_DB_URL, { prepare: false, max: 6, onnotice: () => {} });
  return client;
}

let storage: SupabaseClient | null = null;
export function service(): SupabaseClient {
  storage ??= createClient(stackEnv().SUPABASE_URL, stackEnv().SUPABASE_SERVICE_ROLE_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
  });
  return storage;
}

export async function closePipeline(): Promise<void> {
  await client?.end();
  client = null;
}

/** The Vault secrets the trigger and the sweeper use to reach parse-conversation (`deno task secrets:sync`). */
export async function ensureSecrets(): Promise<void> {
  const env = stackEnv();
  await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
}

/**
 * Runs `fn` while wake-ups go to a closed port: requests are queued and sent as usual, and fail, like a
 * wake-up lost in transit. The real URL is restored afterwards, whatever happens.
 */
export async function withLostWakeups<T>(fn: () => Promise<T>): Promise<T> {
  const env = stackEnv();
  await syncSecrets(env.SUPABASE_DB_URL, "http://127.0.0.1:9", env.SUPABASE_SERVICE_ROLE_KEY);
  try {
    return await fn();
  } finally {
    await ensureSecrets();
  }
}

export async function createUser(): Promise<string> {
  const id = crypto.randomUUID();
  await db()`insert into auth.users (id, email, role, aud) values (${id}, ${`${id}@parse.test`}, 'authenticated',
    'authenticated')`;
  return id;
}

/** A conversation row as generate-conversation leaves it before the raw upload (scaffolding from the seed). */
export async function createGeneratingRow(
  userId: string,
  opts: { rawSha256?: string | null; status?: string } = {},
): Promise<string> {
  const id = crypto.randomUUID();
  await db()`
    insert into public.conversations (conversation_id, user_id, processing_status, raw_sha256, tier,
                                      persona_id, emotional_arc_id, training_topic_id)
    select ${id}, ${userId}, ${opts.status ?? "generating"}, ${opts.rawSha256 ?? null}, 'template',
           (select id from public.personas order by persona_key limit 1),
           (select id from public.emotional_arcs order by arc_key limit 1),
           (select id from public.training_topics order by topic_key limit 1)`;
  return id;
}

export async function uploadRaw(
  userId: string,
  conversationId: string,
  bytes: Uint8Array,
  upsert = false,
): Promise<void> {
  const { error } = await service().storage.from(CONVERSATION_BUCKET).upload(
    rawObjectPath(userId, conversationId),
    bytes,
    { contentType: "application/json", upsert },
  );
  if (error) throw new Error(`upload failed: ${error.message}`);
}

/** generate-conversation's two steps: the row (with the sha256 of the bytes it is about to store), the upload. */
export async function generateLike(userId: string, bytes: Uint8Array): Promise<string> {
  const id = await createGeneratingRow(userId, { rawSha256: await sha256Hex(bytes) });
  await uploadRaw(userId, id, bytes);
  return id;
}

/** A Messages API response body from the Claude stand-in, verbatim, for the given behaviour. */
export async function standinResponse(behavior: string, seed: string): Promise<Uint8Array> {
  const res = await fetch(`${stackEnv().ANTHROPIC_BASE_URL}/v1/messages`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "local-test",
      "anthropic-version": "2023-06-01",
      "x-standin-behavior": behavior,
      "x-standin-seed": seed,
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5-20250929",
      max_tokens: 4096,
      messages: [{
        role: "user",
        content: "Persona: David Chen - The Pragmatic Optimist. Topic: 529 Plans. Arc: Shame to Acceptance.",
      }],
    }),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(`stand-in answered ${res.status}: ${new TextDecoder().decode(bytes)}`);
  }
  return bytes;
}

export const conversationRow = z.object({
  conversation_id: z.string(),
  processing_status: z.string(),
  parse_attempts: z.number().nullable(),
  parse_method_used: z.string().nullable(),
  parse_error_message: z.string().nullable(),
  requires_manual_review: z.boolean().nullable(),
  file_path: z.string().nullable(),
  turn_count: z.number().nullable(),
  raw_sha256: z.string().nullable(),
  raw_response_path: z.string().nullable(),
  raw_response_size: z.union([z.bigint(), z.string(), z.number()]).nullable(),
  truncated: z.boolean(),
  claimed_until: z.date().nullable(),
});
export type ConversationRow = z.infer<typeof conversationRow>;

export async function row(conversationId: string): Promise<ConversationRow | null> {
  const [r] = await db()`
    select conversation_id, processing_status, parse_attempts, parse_method_used, parse_error_message,
           requires_manual_review, file_path, turn_count, raw_sha256, raw_response_path, raw_response_size,
           truncated, claimed_until
      from public.conversations where conversation_id = ${conversationId}`;
  return r ? conversationRow.parse(r) : null;
}

export const TERMINAL = ["completed", "parse_failed"] as const;

/** Polls until the row reaches one of `statuses` (default: a terminal one); fails with the last state seen. */
export async function waitForStatus(
  conversationId: string,
  statuses: readonly string[] = TERMINAL,
  timeoutMs = 10_000,
): Promise<ConversationRow> {
  const deadline = Date.now() + timeoutMs;
  let last: ConversationRow | null = null;
  while (Date.now() < deadline) {
    last = await row(conversationId);
    if (last && statuses.includes(last.processing_status)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `conversation ${conversationId} did not reach ${statuses.join("|")}: ${JSON.stringify(last)}`,
  );
}

export async function attempts(conversationId: string): Promise<
  { attempt_number: number; outcome: string; error_code: string | null; triggered_by: string | null }[]
> {
  const rows = await db()`
    select attempt_number, outcome, error_code, triggered_by from public.conversation_parse_attempts
     where conversation_id = ${conversationId} order by id`;
  return rows.map((r) => ({
    attempt_number: Number(r.attempt_number),
    outcome: String(r.outcome),
    error_code: r.error_code === null ? null : String(r.error_code),
    triggered_by: r.triggered_by === null ? null : String(r.triggered_by),
  }));
}

/** Runs the sweeper now, as pg_cron would (grace 0: everything due now is dispatched). */
export async function sweep(batch = 50): Promise<Record<string, unknown>> {
  const [r] = await db()`
    select private.sweep_conversations(p_batch => ${batch}, p_grace => interval '0 seconds') as summary`;
  return r.summary as Record<string, unknown>;
}

/** Posts to parse-conversation with the service key, as pg_net does. */
export async function invokeParse(body: unknown): Promise<Response> {
  return await fetch(`${stackEnv().SUPABASE_URL}/functions/v1/parse-conversation`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${stackEnv().SUPABASE_SERVICE_ROLE_KEY}`,
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
}

export async function downloadText(path: string): Promise<string> {
  const { data, error } = await service().storage.from(CONVERSATION_BUCKET).download(path);
  if (error || !data) throw new Error(`download failed: ${error?.message}`);
  return await data.text();
}
