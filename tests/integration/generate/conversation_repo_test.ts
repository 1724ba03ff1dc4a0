/**
 * The generate flow's SQL against the migrated schema and the seed (no gateway needed): template selection,
 * the generating row, idempotency races on real connections, the one-statement spool (whose CHECKs verify size
 * and sha256), and the guards that make a late writer a no-op.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { postgresConversationRepo } from "../../../shared/adapters/postgres_conversation_repo.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { databaseUrl } from "../../../local/paths.ts";

const SEED = {
  persona: "10000000-0000-4000-8000-000000000001",
  arcConfusion: "20000000-0000-4000-8000-000000000001",
  arcAnxiety: "20000000-0000-4000-8000-000000000003",
  topic: "30000000-0000-4000-8000-000000000002",
  templateA: "40000000-0000-4000-8000-000000000001",
  templateScenario: "40000000-0000-4000-8000-000000000003",
};

function connect() {
  return postgres(databaseUrl(), { prepare: false, max: 10, onnotice: () => {} });
}

async function newUser(sql: postgres.Sql): Promise<string> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, email, aud, role) values (${id}, ${`${id}@test.local`}, 'authenticated', 'authenticated')`;
  return id;
}

function row(userId: string, overrides: Record<string, unknown> = {}) {
  return {
    conversationId: crypto.randomUUID(),
    userId,
    personaId: SEED.persona,
    emotionalArcId: SEED.arcConfusion,
    trainingTopicId: SEED.topic,
    templateId: SEED.templateA,
    personaKey: "overwhelmed_avoider",
    emotionalArcKey: "confusion_to_clarity",
    topicKey: "529_plans",
    tier: "template",
    snapshot: { scaffolding_version: "1.0" },
    model: "claude-sonnet-4-5",
    idempotencyKey: null,
    requestHash: "a".repeat(64),
    ...overrides,
  };
}

Deno.test("loadScaffolding() returns the seed rows and picks the template by arc and tier", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const ids = { personaId: SEED.persona, emotionalArcId: SEED.arcConfusion, trainingTopicId: SEED.topic };
    const found = await repo.loadScaffolding({ ...ids, templateId: null, tier: "template" });
    assert.equal((found.persona as { persona_key: string }).persona_key, "overwhelmed_avoider");
    assert.equal((found.arc as { arc_key: string }).arc_key, "confusion_to_clarity");
    assert.equal((found.template as { id: string }).id, SEED.templateA);
    const otherTier = await repo.loadScaffolding({ ...ids, templateId: null, tier: "edge_case" });
    assert.equal(
      otherTier.template,
      null,
      "no template for this arc at that tier: the built-in prompt is used",
    );
    const explicit = await repo.loadScaffolding({
      ...ids,
      templateId: SEED.templateScenario,
      tier: "template",
    });
    assert.equal((explicit.template as { id: string }).id, SEED.templateScenario);
    const missing = await repo.loadScaffolding({
      ...ids,
      personaId: crypto.randomUUID(),
      templateId: null,
      tier: "template",
    });
    assert.equal(missing.persona, null);
  } finally {
    await sql.end();
  }
});

Deno.test("loadScaffolding() treats an inactive persona as missing", async () => {
  const sql = connect();
  try {
    await sql.begin(async (tx) => {
      await tx`update public.personas set is_active = false where id = ${SEED.persona}`;
      const repo = postgresConversationRepo(tx as unknown as postgres.Sql);
      const r = await repo.loadScaffolding({
        personaId: SEED.persona,
        emotionalArcId: SEED.arcAnxiety,
        trainingTopicId: SEED.topic,
        templateId: null,
        tier: "scenario",
      });
      assert.equal(r.persona, null);
      assert.equal((r.template as { id: string }).id, SEED.templateScenario);
      throw new Error("rollback");
    }).catch((e) => {
      if (e.message !== "rollback") throw e;
    });
  } finally {
    await sql.end();
  }
});

Deno.test("insertGenerating() + writeAhead() + readState() write the pipeline's step 1 and 2", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const r = row(user);
    assert.deepEqual(await repo.insertGenerating(r), { inserted: true });
    const raw = new TextEncoder().encode('{"type":"message"}');
    const sha = await sha256Hex(raw);
    const ok = await repo.writeAhead({
      conversationId: r.conversationId,
      kind: "write_ahead",
      raw,
      leaseMs: 120_000,
      record: {
        rawSha256: sha,
        stopReason: "end_turn",
        model: "claude-sonnet-4-5-20250929",
        inputTokens: 1000,
        outputTokens: 2000,
        costUsd: 0.033,
        truncated: false,
        attempts: 2,
      },
    });
    assert.equal(ok, true);
    const [db] = await sql`select * from public.conversations where conversation_id = ${r.conversationId}`;
    assert.equal(db.processing_status, "generating");
    assert.equal(db.raw_sha256, sha);
    const [spool] = await sql`
      select kind, raw_sha256, raw_size, next_attempt_at > now() + interval '100 seconds' as leased
        from public.raw_response_spool where conversation_id = ${r.conversationId}`;
    assert.deepEqual({ ...spool }, { kind: "write_ahead", raw_sha256: sha, raw_size: "18", leased: true });
    assert.equal(db.model, "claude-sonnet-4-5-20250929");
    assert.equal(Number(db.cost_usd), 0.033);
    assert.equal(db.generation_attempts, 2);
    assert.equal(db.template_id, SEED.templateA);
    assert.equal(db.emotional_arc_key, "confusion_to_clarity");
    assert.deepEqual(db.scaffolding_snapshot, { scaffolding_version: "1.0" });
    const state = await repo.readState(r.conversationId);
    assert.equal(state?.processing_status, "generating");
    assert.equal(state?.user_id, user);
  } finally {
    await sql.end();
  }
});

Deno.test("insertGenerating() lets exactly one of 8 concurrent same-key requests insert", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => repo.insertGenerating(row(user, { idempotencyKey: "same-key" }))),
    );
    const winners = results.filter((r) => r.inserted);
    assert.equal(winners.length, 1);
    const ids = new Set(results.map((r) => (r.inserted ? "winner" : r.existing.conversation_id)));
    assert.equal(ids.size, 2, "every loser sees the same winner row");
    const [{ n }] = await sql`select count(*)::int as n from public.conversations where user_id = ${user}`;
    assert.equal(n, 1);
  } finally {
    await sql.end();
  }
});

Deno.test("spoolRaw() moves the row to raw_spooled and stores the exact bytes in one statement", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const r = row(user);
    await repo.insertGenerating(r);
    const raw = new TextEncoder().encode('{"type":"message","content":[{"type":"text","text":"é ✅"}]}');
    const sha = await sha256Hex(raw);
    const out = await repo.spoolRaw({
      conversationId: r.conversationId,
      userId: user,
      raw,
      rawSha256: sha,
      uploadAttempts: 4,
      lastError: "503",
    });
    assert.deepEqual(out, { kind: "spooled" });
    const [spool] =
      await sql`select * from public.raw_response_spool where conversation_id = ${r.conversationId}`;
    assert.deepEqual(new Uint8Array(spool.raw), raw);
    assert.equal(spool.upload_attempts, 4);
    const [c] = await sql`select processing_status, raw_sha256 from public.conversations
                           where conversation_id = ${r.conversationId}`;
    assert.deepEqual({ ...c }, { processing_status: "raw_spooled", raw_sha256: sha });
    const again = await repo.spoolRaw({
      conversationId: r.conversationId,
      userId: user,
      raw,
      rawSha256: sha,
      uploadAttempts: 1,
      lastError: "x",
    });
    assert.deepEqual(again, { kind: "not_generating", status: "raw_spooled" });
  } finally {
    await sql.end();
  }
});

Deno.test("spoolRaw() spools nothing when the row already moved on, and reports a missing row", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const r = row(user);
    await repo.insertGenerating(r);
    await sql`update public.conversations set processing_status = 'raw_stored' where conversation_id = ${r.conversationId}`;
    const raw = new TextEncoder().encode("{}");
    const input = {
      conversationId: r.conversationId,
      userId: user,
      raw,
      rawSha256: await sha256Hex(raw),
      uploadAttempts: 1,
      lastError: "x",
    };
    assert.deepEqual(await repo.spoolRaw(input), { kind: "not_generating", status: "raw_stored" });
    const [{ n }] =
      await sql`select count(*)::int as n from public.raw_response_spool where conversation_id = ${r.conversationId}`;
    assert.equal(n, 0);
    assert.deepEqual(await repo.spoolRaw({ ...input, conversationId: crypto.randomUUID() }), {
      kind: "missing",
    });
  } finally {
    await sql.end();
  }
});

Deno.test("markGenerationFailed() only moves a generating row", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const r = row(user);
    await repo.insertGenerating(r);
    assert.equal(await repo.markGenerationFailed(r.conversationId, "529 overloaded", 4), true);
    assert.equal(await repo.markGenerationFailed(r.conversationId, "again", 5), false);
    const state = await repo.readState(r.conversationId);
    assert.equal(state?.processing_status, "generation_failed");
    assert.equal(state?.generation_error, "529 overloaded");
    const raw = new TextEncoder().encode("{}");
    assert.equal(
      await repo.writeAhead({
        conversationId: r.conversationId,
        kind: "write_ahead",
        raw,
        leaseMs: 120_000,
        record: {
          rawSha256: await sha256Hex(raw),
          stopReason: null,
          model: null,
          inputTokens: null,
          outputTokens: null,
          costUsd: null,
          truncated: false,
          attempts: 1,
        },
      }),
      false,
      "a late Claude result does not touch a failed row",
    );
    const [{ n }] = await sql`
      select count(*)::int as n from public.raw_response_spool where conversation_id = ${r.conversationId}`;
    assert.equal(n, 0, "and writes no bytes");
  } finally {
    await sql.end();
  }
});

Deno.test("userExists() knows auth.users", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    assert.equal(await repo.userExists(user), true);
    assert.equal(await repo.userExists(crypto.randomUUID()), false);
  } finally {
    await sql.end();
  }
});

Deno.test("checkpoint → write-ahead → spool or drop: one spool row per conversation, replaced in place", async () => {
  const sql = connect();
  try {
    const repo = postgresConversationRepo(sql);
    const user = await newUser(sql);
    const enc = (t: string) => new TextEncoder().encode(t);
    const record = async (raw: Uint8Array, truncated: boolean) => ({
      rawSha256: await sha256Hex(raw),
      stopReason: truncated ? null : "end_turn",
      model: "claude-sonnet-4-5",
      inputTokens: 100,
      outputTokens: truncated ? 1 : 900,
      costUsd: null,
      truncated,
      attempts: 1,
    });
    const spoolOf = async (id: string) =>
      await sql`select kind, raw_sha256, convert_from(raw, 'UTF8') as raw from public.raw_response_spool
                 where conversation_id = ${id}`;

    // A: checkpoint, checkpoint, final write-ahead, upload confirmed → nothing left.
    const a = row(user);
    await repo.insertGenerating(a);
    for (const text of ['{"partial":1', '{"partial":12']) {
      const raw = enc(text);
      assert.equal(
        await repo.writeAhead({
          conversationId: a.conversationId,
          kind: "checkpoint",
          raw,
          leaseMs: 420_000,
          record: await record(raw, true),
        }),
        true,
      );
    }
    let s = await spoolOf(a.conversationId);
    assert.deepEqual([s[0].kind, s[0].raw], ["checkpoint", '{"partial":12'], "the newer checkpoint replaced");
    const [cp] = await sql`select truncated, raw_sha256 from public.conversations
                            where conversation_id = ${a.conversationId}`;
    assert.equal(cp.truncated, true, "a checkpointed row reads as truncated until the final answer");
    assert.equal(cp.raw_sha256, s[0].raw_sha256, "its sha256 is the checkpoint's");
    const full = enc('{"type":"message","done":true}');
    const fullRecord = await record(full, false);
    await repo.writeAhead({
      conversationId: a.conversationId,
      kind: "write_ahead",
      raw: full,
      leaseMs: 120_000,
      record: fullRecord,
    });
    s = await spoolOf(a.conversationId);
    assert.deepEqual([s.length, s[0].kind, s[0].raw_sha256], [1, "write_ahead", fullRecord.rawSha256]);
    assert.equal(await repo.dropWriteAhead(a.conversationId, "0".repeat(64)), false, "guarded by the sha256");
    assert.equal(await repo.dropWriteAhead(a.conversationId, fullRecord.rawSha256), true);
    assert.equal((await spoolOf(a.conversationId)).length, 0, "a completed generation leaves no spool row");

    // B: write-ahead, then Storage refuses: the same row becomes the spooled row, due now.
    const b = row(user);
    await repo.insertGenerating(b);
    const rawB = enc('{"type":"message","b":1}');
    const recB = await record(rawB, false);
    await repo.writeAhead({
      conversationId: b.conversationId,
      kind: "write_ahead",
      raw: rawB,
      leaseMs: 120_000,
      record: recB,
    });
    const out = await repo.spoolRaw({
      conversationId: b.conversationId,
      userId: user,
      raw: rawB,
      rawSha256: recB.rawSha256,
      uploadAttempts: 4,
      lastError: "502",
    });
    assert.deepEqual(out, { kind: "spooled" });
    const [sb] = await sql`select kind, upload_attempts, next_attempt_at <= now() as due
                             from public.raw_response_spool where conversation_id = ${b.conversationId}`;
    assert.deepEqual({ ...sb }, { kind: "spooled", upload_attempts: 4, due: true });
    assert.equal(await repo.dropWriteAhead(b.conversationId, recB.rawSha256), false, "a spooled row is kept");
    const later = enc('{"late":1}');
    assert.equal(
      await repo.writeAhead({
        conversationId: b.conversationId,
        kind: "checkpoint",
        raw: later,
        leaseMs: 1000,
        record: await record(later, true),
      }),
      false,
      "nothing overwrites a spooled answer",
    );
  } finally {
    await sql.end();
  }
});
