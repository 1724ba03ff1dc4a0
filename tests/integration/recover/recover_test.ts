/**
 * `deno task recover --log FILE` against the local stack: answers the log-ahead logged for rows whose worker
 * died (closed as `worker_lost`, or still `generating`) are stored at their raw path with the logged sha256, the
 * storage trigger and the parse move the rows on, a row that is already further is left alone, and a second run
 * restores nothing.
 */
import assert from "node:assert/strict";
import { logAheadParts } from "../../../shared/generate/log_ahead.ts";
import { rawObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { makeConversation, render, textResponse } from "../../fixtures/parse/samples.ts";
import { runDeno } from "../../support/run_deno.ts";
import { MOCK_ACCESS_TOKEN, startMockManagementApi } from "../../support/management_api_mock.ts";
import { createTestUser, eventually, serviceClient, sql, stackTest } from "../../support/stack.ts";
import { ensurePipelineSecrets } from "../generate/_helpers.ts";

async function loggedLines(conversationId: string, body: string, gateway: boolean): Promise<string[]> {
  const raw = new TextEncoder().encode(body);
  const parts = logAheadParts({
    conversationId,
    rawSha256: await sha256Hex(raw),
    raw,
    meta: {
      stop_reason: "end_turn",
      model: "claude-sonnet-4-5",
      usage: { input_tokens: 9, output_tokens: 99 },
      truncated: false,
    },
  });
  return parts.map((p) => {
    const line = JSON.stringify({
      ts: new Date().toISOString(),
      level: "info",
      event: "raw_response_logged",
      ...p,
    });
    return gateway
      ? JSON.stringify({ event: "function_log", function: "generate-conversation", stream: "stdout", line })
      : line;
  });
}

async function insertRow(userId: string, status: string, code: string | null): Promise<string> {
  const [row] = await sql()<{ id: string }[]>`
    insert into public.conversations (user_id, processing_status, generation_error_code, generation_error,
                                      created_at, updated_at)
    values (${userId}, ${status}, ${code}, ${code ? "the worker was lost" : null},
            now() - interval '40 minutes', now() - interval '40 minutes')
    returning conversation_id::text as id`;
  return row.id;
}

stackTest(
  "deno task recover --log stores logged answers of lost workers once, and the rows move on",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    const lost = await insertRow(user.id, "generation_failed", "worker_lost");
    const stuck = await insertRow(user.id, "generating", null);
    const done = await insertRow(user.id, "generation_failed", "claude_error");
    const bodies = new Map<string, string>();
    const lines: string[] = [
      '{"event":"function_log","function":"parse-conversation","line":"{}"}',
      "not json",
    ];
    for (const [i, id] of [lost, stuck, done].entries()) {
      const body = textResponse(render(makeConversation(40 + i, { turns: 8, sentences: 60 }), false).text);
      bodies.set(id, body);
      lines.push(...await loggedLines(id, body, i !== 1));
    }
    assert.ok(lines.length > 6, "the bodies span several parts");
    const file = await Deno.makeTempFile({ suffix: ".jsonl" });
    await Deno.writeTextFile(file, lines.reverse().join("\n") + "\n");

    const dry = await runDeno(["task", "-q", "recover", "--log", file, "--dry-run", "--json"]);
    assert.equal(dry.code, 0, dry.out);
    const planned = JSON.parse(dry.stdout) as Array<{ conversation_id: string; action: string }>;
    assert.deepEqual(
      planned.filter((i) => i.action === "would_restore").map((i) => i.conversation_id).sort(),
      [lost, stuck].sort(),
    );
    const [{ count: stillNone }] = await sql()<{ count: number }[]>`
    select count(*)::int as count from storage.objects where name like ${`raw/${user.id}/%`}`;
    assert.equal(stillNone, 0, "a dry run stores nothing");

    const first = await runDeno(["task", "-q", "recover", "--log", file]);
    assert.equal(first.code, 0, first.out);
    assert.match(first.stdout, /restored 2/);
    assert.match(first.stdout, /row is generation_failed \(claude_error\)/);

    for (const id of [lost, stuck]) {
      const { data, error } = await serviceClient().storage.from("conversation-files").download(
        rawObjectPath(user.id, id),
      );
      assert.equal(error, null);
      const bytes = new Uint8Array(await data!.arrayBuffer());
      assert.equal(await sha256Hex(bytes), await sha256Hex(new TextEncoder().encode(bodies.get(id)!)));
      const row = await eventually(async () => {
        const [r] = await sql()<{ processing_status: string; generation_error_code: string | null }[]>`
        select processing_status, generation_error_code from public.conversations where conversation_id = ${id}`;
        return ["completed", "parse_failed"].includes(r.processing_status) ? r : null;
      }, { timeoutMs: 20_000, what: `conversation ${id} parsed` });
      assert.equal(row.processing_status, "completed");
      assert.equal(row.generation_error_code, null, "worker_lost is cleared");
      const [meta] = await sql()<
        { raw_sha256: string; input_tokens: number; output_tokens: number; stop_reason: string }[]
      >`
      select raw_sha256, input_tokens, output_tokens, stop_reason from public.conversations
       where conversation_id = ${id}`;
      assert.deepEqual(
        [meta.raw_sha256, meta.input_tokens, meta.output_tokens, meta.stop_reason],
        [await sha256Hex(new TextEncoder().encode(bodies.get(id)!)), 9, 99, "end_turn"],
        "the logged metadata is on the row",
      );
    }
    const [untouched] = await sql()<{ processing_status: string }[]>`
    select processing_status from public.conversations where conversation_id = ${done}`;
    assert.equal(untouched.processing_status, "generation_failed");

    const second = await runDeno(["task", "-q", "recover", "--log", file, "--json"]);
    assert.equal(second.code, 0, second.out);
    const again = JSON.parse(second.stdout) as Array<{ action: string }>;
    assert.equal(again.filter((i) => i.action !== "skipped").length, 0, second.stdout);
    await Deno.remove(file);
  },
);

stackTest(
  "deno task recover --project-ref reads the logged lines through the Management API's logs endpoint",
  async () => {
    await ensurePipelineSecrets();
    const user = await createTestUser();
    const lost = await insertRow(user.id, "generation_failed", "worker_lost");
    const body = textResponse(render(makeConversation(77, { turns: 6, sentences: 40 }), false).text);
    const api = startMockManagementApi("recoverref");
    try {
      // Whole minutes, so the three hours are three queries.
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      const at = new Date(now - 90 * 60_000);
      for (const l of await loggedLines(lost, body, false)) api.functionLogs.push({ at, event_message: l });
      api.functionLogs.push({ at, event_message: '{"event":"raw_written_ahead"}' });
      const run = await runDeno(
        [
          "task",
          "-q",
          "recover",
          "--project-ref",
          "recoverref",
          "--since",
          new Date(now - 3 * 3_600_000).toISOString(),
          "--until",
          new Date(now).toISOString(),
          "--json",
        ],
        { env: { SUPABASE_ACCESS_TOKEN: MOCK_ACCESS_TOKEN, SUPABASE_API_URL: api.url } },
      );
      assert.equal(run.code, 0, run.out);
      const items = JSON.parse(run.stdout) as Array<{ conversation_id: string; action: string }>;
      assert.deepEqual(items.map((i) => [i.conversation_id, i.action]), [[lost, "restored"]]);
      assert.equal(api.logQueries.length, 3, "one query per hour");
      assert.ok(api.logQueries.every((q) => /from function_logs/.test(q.sql)));
      assert.deepEqual(api.unexpected, []);
      const row = await eventually(async () => {
        const [r] = await sql()<{ processing_status: string }[]>`
        select processing_status from public.conversations where conversation_id = ${lost}`;
        return r.processing_status === "completed" ? r : null;
      }, { timeoutMs: 20_000, what: "the recovered row parsed" });
      assert.equal(row.processing_status, "completed");
    } finally {
      await api.close();
    }
  },
);
