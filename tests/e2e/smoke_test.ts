/**
 * The deployment checklist's Step 5 smoke test, automated against the local stack: its curl (with the service
 * key added, and a real user's uuid in x-user-id instead of "test-user"), then its SQL check, verbatim, then
 * "File exists in storage".
 *
 * All four expectations hold as written. `raw_response_url` is the authenticated object URL (it never expires
 * and grants nothing by itself: a GET needs a key or a token RLS accepts), not a stored signed URL.
 * docs/GENERATE.md, "Smoke test".
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { stateDir } from "../../local/paths.ts";
import { CONVERSATION_BUCKET } from "../../shared/pipeline/object_store.ts";
import { createTestUser, serviceClient, serviceKey, sql, stackEnv, stackTest } from "../support/stack.ts";
import { ensurePipelineSecrets, SEED } from "../integration/generate/_helpers.ts";

await ensurePipelineSecrets();

/** Step 5's check, verbatim from the checklist (kept in docs/runbook-sql/ with the other runbook queries). */
const CHECKLIST_SQL = await Deno.readTextFile(
  new URL("../../docs/runbook-sql/step5_check_latest_conversation.sql", import.meta.url),
);

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-sS", "-w", "\n%{http_code}", ...args],
    stdout: "piped",
  })
    .output();
  assert.equal(out.code, 0, "curl ran");
  const text = new TextDecoder().decode(out.stdout);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

stackTest(
  "checklist Step 5: the curl generates a conversation and the SQL check finds it stored",
  async () => {
    const user = await createTestUser();
    const { status, body } = await curl([
      "-X",
      "POST",
      `${stackEnv().SUPABASE_URL}/functions/v1/generate-conversation`,
      "-H",
      "Content-Type: application/json",
      "-H",
      `Authorization: Bearer ${serviceKey()}`,
      "-H",
      `x-user-id: ${user.id}`,
      "-d",
      JSON.stringify({
        persona_id: SEED.persona,
        emotional_arc_id: SEED.arc,
        training_topic_id: SEED.topic,
        tier: "template",
      }),
    ]);
    assert.equal(status, 201, body);
    const created = JSON.parse(body);

    // "Test conversation generated successfully" + "Database fields populated"
    const rows = await sql().unsafe(CHECKLIST_SQL);
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.equal(
      row.conversation_id,
      created.conversation_id,
      "the newest conversation is the one just generated",
    );
    const objectUrl =
      `${stackEnv().SUPABASE_URL}/storage/v1/object/authenticated/${CONVERSATION_BUCKET}/${row.raw_response_path}`;
    assert.equal(row.raw_response_url, objectUrl, "raw_response_url is the authenticated object URL");
    const withKey = await fetch(objectUrl, { headers: { Authorization: `Bearer ${serviceKey()}` } });
    assert.equal(withKey.status, 200, "the URL serves the raw response to a caller RLS lets read it");
    await withKey.body?.cancel();
    const anonymous = await fetch(objectUrl);
    assert.notEqual(anonymous.status, 200, "and nothing to a caller without a token");
    await anonymous.body?.cancel();
    assert.ok(String(row.raw_response_path).startsWith("raw/"), "raw_response_path starts with raw/");
    assert.equal(row.raw_response_path, `raw/${user.id}/${created.conversation_id}.json`);
    const age = Date.now() - new Date(row.raw_stored_at).getTime();
    assert.ok(age >= -5_000 && age < 60_000, `raw_stored_at is recent (${age} ms ago)`);
    assert.ok(["completed", "raw_stored"].includes(row.processing_status), row.processing_status);

    // "Raw response stored" + "File exists in storage"
    const { data, error } = await serviceClient().storage.from(CONVERSATION_BUCKET).download(
      row.raw_response_path,
    );
    assert.equal(error, null);
    assert.equal(JSON.parse(await data!.text()).type, "message");

    // Step 6's log lines for this conversation, when the stack's function log is at hand.
    const log = join(stateDir(), "gateway.log");
    if (existsSync(log)) {
      const text = await Deno.readTextFile(log);
      const ours = text.split("\n").filter((l) => l.includes(created.conversation_id));
      assert.ok(ours.some((l) => l.includes("[storeRawResponse] Storing raw response for conversation...")));
      assert.ok(
        ours.some((l) => l.includes(`[storeRawResponse] ✅ Raw file uploaded to ${row.raw_response_path}`)),
      );
    }
  },
);
