/** Shared by the generate integration and end-to-end tests: seed ids and waiting for the pipeline. */
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { sql, stackEnv } from "../../support/stack.ts";

/** Fixed ids from supabase/seed.sql (docs/DATABASE.md lists them). */
export const SEED = {
  persona: "10000000-0000-4000-8000-000000000002",
  arc: "20000000-0000-4000-8000-000000000001",
  topic: "30000000-0000-4000-8000-000000000001",
  templateA: "40000000-0000-4000-8000-000000000001",
};

export const SEED_BODY = {
  persona_id: SEED.persona,
  emotional_arc_id: SEED.arc,
  training_topic_id: SEED.topic,
  tier: "template",
};

export interface ConversationRow {
  conversation_id: string;
  user_id: string;
  processing_status: string;
  raw_response_path: string | null;
  raw_sha256: string | null;
  parse_method_used: string | null;
  requires_manual_review: boolean | null;
  truncated: boolean;
  generation_error: string | null;
  generation_attempts: number;
  turn_count: number | null;
  stop_reason: string | null;
}

const SETTLED = new Set(["completed", "parse_failed", "generation_failed", "raw_spooled"]);

/** Polls the row until the pipeline is done with it (parse finished, or it never got to parse). */
export async function waitForSettled(conversationId: string, timeoutMs = 15_000): Promise<ConversationRow> {
  const deadline = Date.now() + timeoutMs;
  let last: ConversationRow | undefined;
  while (Date.now() < deadline) {
    const rows = await sql()<ConversationRow[]>`
      select conversation_id::text, user_id::text, processing_status, raw_response_path, raw_sha256,
             parse_method_used, requires_manual_review, truncated, generation_error, generation_attempts,
             turn_count, stop_reason
        from public.conversations where conversation_id = ${conversationId}`;
    last = rows[0];
    if (last && SETTLED.has(last.processing_status)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Conversation ${conversationId} did not settle: ${JSON.stringify(last)}`);
}

let secretsSynced: Promise<void> | null = null;

/**
 * The storage trigger wakes parse-conversation with the Vault secrets `project_url` and `service_role_key`;
 * a freshly reset database has none, so the tests set them (once per process; re-running only replaces them).
 */
export function ensurePipelineSecrets(): Promise<void> {
  const env = stackEnv();
  secretsSynced ??= syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
  return secretsSynced;
}
