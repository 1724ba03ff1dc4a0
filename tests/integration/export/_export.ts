/**
 * Fixtures for the export tests: completed conversations of a fresh user, made two ways —
 *
 *   generated(userId, n)   through generate-conversation with the stand-in's clean answer and the real parse
 *                          (the demo data: real final files, real raw_sha256, real parser version)
 *   completedRows(userId, n)   rows and final files written directly (fast, for tests that need many): a row
 *                          inserted as `generating` (so its source is `generated`), moved to `completed`, and a
 *                          final file built with the parse flow's own buildFinalFile uploaded beside it
 *
 * and the export's ports over the stack (`stackSource()`, the adapters `deno task export` uses).
 */
import { supabaseExportFiles } from "../../../shared/adapters/supabase_export_files.ts";
import { CONVERSATION_BUCKET } from "../../../shared/pipeline/object_store.ts";
import { finalObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { postgresExportRows } from "../../../shared/adapters/postgres_export_rows.ts";
import { buildFinalFile } from "../../../shared/parse_flow/final_file.ts";
import type { ExportSource } from "../../../shared/export/run.ts";
import { serviceClient, serviceKey, sql, stackEnv } from "../../support/stack.ts";
import { generateMany, settle } from "../../support/faults.ts";
import { DEFAULT_FILTER, type ExportFilter } from "../../../shared/export/filter.ts";

/** The CLI's ports over the stack: keyset pages from PostgreSQL, final files signed in bulk and fetched. */
export function stackSource(): ExportSource {
  return { ...postgresExportRows(sql()), ...supabaseExportFiles(stackEnv().SUPABASE_URL, serviceKey()) };
}

export function userFilter(userId: string, patch: Partial<ExportFilter> = {}): ExportFilter {
  return { ...DEFAULT_FILTER, users: [userId], ...patch };
}

/** `n` conversations through the real pipeline; all must end completed. */
export async function generated(userId: string, n: number): Promise<string[]> {
  const answers = await generateMany(userId, n);
  for (const a of answers) {
    if (a.status < 200 || a.status > 299) throw new Error(`generate: ${JSON.stringify(a)}`);
  }
  await settle(userId, { timeoutMs: 30_000 });
  const rows = await sql()`
    select conversation_id::text as id, processing_status from public.conversations where user_id = ${userId}`;
  const bad = rows.filter((r) => r.processing_status !== "completed");
  if (bad.length > 0) throw new Error(`not completed: ${JSON.stringify(bad)}`);
  return rows.map((r) => String(r.id));
}

const PERSONAS = [
  ["pragmatic_optimist", "David Chen", "The Pragmatic Optimist"],
  ["anxious_planner", "Maria Lopez", "The Anxious Planner"],
] as const;
const EC = { primary_emotion: "worry", intensity: 0.5 };
const TOPICS = ["529_plans", "emergency_fund"] as const;

/**
 * `n` completed rows with final files, written directly; method cycles direct/jsonrepair/manual, persona and
 * topic cycle over two keys each; `offset` numbers them on (for fixtures made in parallel chunks). Returns the
 * ids in creation order.
 */
export async function completedRows(userId: string, n: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  const methods = ["direct", "jsonrepair", "manual"];
  const base = Date.parse("2026-01-01T00:00:00Z");
  for (let i = offset; i < offset + n; i++) {
    const id = crypto.randomUUID();
    ids.push(id);
    const [personaKey, personaName, archetype] = PERSONAS[i % 2];
    const topicKey = TOPICS[Math.floor(i / 2) % 2];
    const file = buildFinalFile(
      {
        conversation_metadata: {
          client_persona: "model label",
          session_context: `Session ${i}`,
          conversation_phase: "initial",
          expected_outcome: "clarity",
        },
        turns: [
          {
            turn_number: 1,
            role: "user",
            content: `Question ${i}: what about "quotes" and ünïcode?`,
            emotional_context: EC,
          },
          { turn_number: 2, role: "assistant", content: `Answer ${i}.`, emotional_context: EC },
          { turn_number: 3, role: "user", content: "Thanks.", emotional_context: EC },
          { turn_number: 4, role: "assistant", content: "You're welcome.", emotional_context: EC },
        ],
      } as Parameters<typeof buildFinalFile>[0],
      {
        personaId: null,
        personaKey,
        personaName,
        personaArchetype: archetype,
        emotionalArcId: null,
        emotionalArcKey: "shame_to_acceptance",
        emotionalArcName: "Shame to Acceptance",
        trainingTopicId: null,
        trainingTopicKey: topicKey,
        trainingTopicName: topicKey,
        source: "generated",
      },
    );
    const path = finalObjectPath(userId, id);
    const { error } = await serviceClient().storage.from(CONVERSATION_BUCKET).upload(path, file.bytes, {
      contentType: "application/json",
      upsert: true,
    });
    if (error) throw new Error(`upload ${path}: ${error.message}`);
    await sql()`
      insert into public.conversations (conversation_id, user_id, processing_status, persona_key, topic_key,
                                        emotional_arc_key, created_at)
      values (${id}, ${userId}, 'generating', ${personaKey}, ${topicKey}, 'shame_to_acceptance',
              ${new Date(base + i * 1000).toISOString()})`;
    await sql()`
      update public.conversations
         set processing_status = 'completed', file_path = ${path}, file_size = ${file.bytes.length},
             parse_method_used = ${methods[i % 3]}, parser_version = '2026.12.1', model = 'claude-test',
             raw_sha256 = ${"ab".repeat(32)}, turn_count = 4, conversation_name = ${file.conversationName}
       where conversation_id = ${id}`;
  }
  return ids;
}
