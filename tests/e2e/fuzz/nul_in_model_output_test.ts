/**
 * Bad input from the other side: a Claude answer whose text holds U+0000 (JSON "\u0000"), which PostgreSQL text
 * and jsonb cannot store. Through the real pipeline — a service-role upload of the raw response, the storage
 * trigger, pg_net, parse-conversation — the conversation must end exactly as without the NUL: a complete answer
 * is completed, a truncated one is recorded as partial with its salvaged turns in one attempt (not retried as
 * an infrastructure failure), and the raw object keeps the exact bytes.
 */
import assert from "node:assert/strict";
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { createTestUser, eventually, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";

function message(text: string, stopReason: string): string {
  return JSON.stringify({
    id: "msg_nul_fixture",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [{ type: "text", text }],
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 10 },
  });
}

const conversation = {
  conversation_metadata: {
    client_persona: "Ann\u0000 Lee - The Planner",
    session_context: "a NUL in the model's text",
    conversation_phase: "initial_opportunity_exploration",
  },
  turns: [1, 2, 3, 4].map((n) => ({
    turn_number: n,
    role: n % 2 === 1 ? "user" : "assistant",
    content: `Turn ${n} says \u0000 and goes on for a while so truncation has something to cut.`,
    emotional_context: { primary_emotion: "worry", intensity: 0.5 },
  })),
};

interface Row {
  processing_status: string;
  parse_attempts: number;
  conversation_name: string | null;
}

async function store(text: string, stopReason: string): Promise<{ id: string; raw: string }> {
  const env = stackEnv();
  await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, serviceKey());
  const user = await createTestUser();
  const id = crypto.randomUUID();
  const raw = message(text, stopReason);
  const res = await fetch(
    `${env.SUPABASE_URL}/storage/v1/object/conversation-files/raw/${user.id}/${id}.json`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
      body: raw,
    },
  );
  assert.equal(res.status, 200, await res.text());
  return { id, raw };
}

function settled(id: string): Promise<Row> {
  return eventually(async () => {
    const [row] = await sql()<Row[]>`
      select processing_status, parse_attempts, conversation_name
        from public.conversations where conversation_id = ${id}`;
    return row && ["completed", "parse_failed"].includes(row.processing_status) ? row : null;
  }, { timeoutMs: 20_000, what: `conversation ${id} to settle` });
}

stackTest(
  "NUL in model output: a complete answer is completed, its name stored without the NUL",
  async () => {
    const { id } = await store(JSON.stringify(conversation), "end_turn");
    const row = await settled(id);
    assert.equal(row.processing_status, "completed");
    assert.equal(row.parse_attempts, 1);
    assert.equal(row.conversation_name, "Ann Lee - The Planner");
  },
);

stackTest(
  "NUL in model output: a truncated answer is recorded as partial in one attempt, the raw bytes kept",
  async () => {
    const text = JSON.stringify(conversation);
    const { id, raw } = await store(text.slice(0, text.length - 80), "max_tokens");
    const row = await settled(id);
    assert.equal(row.processing_status, "parse_failed");
    assert.equal(row.parse_attempts, 1, "not retried as an infrastructure failure");
    const attempts = await sql()<{ outcome: string; turns: number | null }[]>`
    select outcome, jsonb_array_length(partial_conversation -> 'turns') as turns
      from public.conversation_parse_attempts where conversation_id = ${id} order by attempt_number`;
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].outcome, "partial");
    assert.ok((attempts[0].turns ?? 0) >= 1, "the salvaged turns are stored");
    const [{ path }] = await sql()<{ path: string }[]>`
    select raw_response_path as path from public.conversations where conversation_id = ${id}`;
    const download = await fetch(`${stackEnv().SUPABASE_URL}/storage/v1/object/conversation-files/${path}`, {
      headers: { authorization: `Bearer ${serviceKey()}` },
    });
    assert.equal(await download.text(), raw, "the raw object is byte for byte what was stored");
  },
);
