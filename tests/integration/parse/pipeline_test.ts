/**
 * The parse pipeline on the local stack: raw upload (Storage API) → trigger on_raw_object_stored → pg_net →
 * parse-conversation → final file + row. Each test makes its own user and conversations, so order does not
 * matter; tests that break wake-ups on purpose restore them before returning.
 */
import assert from "node:assert/strict";
import { finalObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { parseStoredResponse } from "../../../shared/parse/mod.ts";
import {
  attempts,
  closePipeline,
  createGeneratingRow,
  createUser,
  db,
  downloadText,
  ensureSecrets,
  generateLike,
  invokeParse,
  row,
  stackEnv,
  standinResponse,
  sweep,
  uploadRaw,
  waitForStatus,
  withLostWakeups,
} from "./_pipeline.ts";

// postgres.js keeps its pool open between tests; the last test closes it.
const opts = { sanitizeResources: false, sanitizeOps: false };
const text = (s: string) => new TextEncoder().encode(s);

await ensureSecrets();

/**
 * Every stand-in behaviour that answers with content: the verdict it must lead to (null: either way) and the
 * method when parsed. The row must match the parse engine's verdict on the same bytes (this suite tests the
 * pipeline, not the parser); pinning the verdict also proves the behaviour took effect.
 */
const behaviors: ReadonlyArray<[string, "parsed" | "partial" | "failed" | null, string | null]> = [
  ["clean", "parsed", "direct"],
  ["tool_use", "parsed", "direct"],
  ["fenced", "parsed", "extracted"],
  ["prose_wrapped", "parsed", "extracted"],
  ["trailing_commas", "parsed", "jsonrepair"],
  ["unescaped_quotes", null, null],
  ["truncated", "partial", null],
  ["truncated_content", "partial", null],
  ["refusal", "failed", null],
  ["empty", "failed", null],
];

for (const [behavior, expected, method] of behaviors) {
  Deno.test({
    name: `pipeline: a ${behavior} response goes from upload to the parse engine's verdict`,
    ...opts,
    fn: async () => {
      const user = await createUser();
      const raw = await standinResponse(behavior, crypto.randomUUID());
      const verdict = parseStoredResponse(raw);
      if (expected) assert.equal(verdict.outcome, expected, `${behavior}: ${verdict.error?.message}`);
      if (method) assert.equal(verdict.method, method);
      const id = await generateLike(user, raw);
      const r = await waitForStatus(id);
      assert.equal(r.parse_attempts, 1, "one attempt");
      if (verdict.outcome === "parsed") {
        assert.equal(r.processing_status, "completed", JSON.stringify(r));
        assert.equal(r.parse_method_used, verdict.method);
        assert.equal(r.requires_manual_review, false);
        assert.equal(r.file_path, finalObjectPath(user, id));
        const final = JSON.parse(await downloadText(r.file_path!));
        assert.deepEqual(final.turns, verdict.conversation.turns);
        assert.equal(r.turn_count, verdict.conversation.turns.length);
        const [persona] = await db()`
          select p.name, p.archetype, p.persona_key from public.personas p
            join public.conversations c on c.persona_id = p.id where c.conversation_id = ${id}`;
        assert.equal(final.conversation_metadata.client_persona, `${persona.name} - ${persona.archetype}`);
        assert.equal(final.input_parameters.persona_key, persona.persona_key);
      } else {
        assert.equal(r.processing_status, "parse_failed", JSON.stringify(r));
        assert.equal(r.requires_manual_review, true);
        assert.equal(r.parse_error_message, `${verdict.error.code}: ${verdict.error.message}`);
        assert.equal(r.truncated, verdict.truncated);
        assert.equal(r.file_path, null);
      }
      const log = await attempts(id);
      assert.equal(log.length, 1);
      assert.equal(log[0].outcome, verdict.outcome);
      assert.equal(log[0].triggered_by, "trigger");
    },
  });
}

Deno.test({
  name: "pipeline: a partial result is kept in the attempts log for review",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const id = await generateLike(user, await standinResponse("truncated_content", crypto.randomUUID()));
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "parse_failed");
    const [a] = await db()`
      select outcome, partial_conversation from public.conversation_parse_attempts where conversation_id = ${id}`;
    assert.equal(a.outcome, "partial");
    assert.ok(Array.isArray(a.partial_conversation.turns) && a.partial_conversation.turns.length > 0);
  },
});

Deno.test({
  name: "pipeline: an orphaned raw object (no row) becomes a conversation and is parsed",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const id = crypto.randomUUID();
    const raw = await standinResponse("clean", id);
    await uploadRaw(user, id, raw);
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "completed");
    assert.equal(r.raw_sha256, await sha256Hex(raw), "the sha256 computed at parse time is recorded");
    const final = JSON.parse(await downloadText(r.file_path!));
    assert.equal(final.input_parameters.persona_id, null, "no scaffolding for an orphan");
  },
});

Deno.test({
  name: "pipeline: a tampered raw object (sha256 mismatch) goes to review with a clear error",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const original = await standinResponse("clean", crypto.randomUUID());
    const id = await createGeneratingRow(user, { rawSha256: await sha256Hex(original) });
    // Still a valid response, one byte longer: only the sha256 tells.
    const tampered = text(new TextDecoder().decode(original) + "\n");
    await uploadRaw(user, id, tampered);
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "parse_failed");
    assert.equal(r.requires_manual_review, true);
    assert.equal(
      r.parse_error_message,
      "raw_sha256_mismatch: Cannot trust the raw object: its sha256 differs from the one recorded at generation",
    );
    assert.equal(r.raw_sha256, await sha256Hex(original), "the recorded sha256 is kept");
    assert.equal(r.file_path, null);
  },
});

Deno.test({
  name: "pipeline: an upsert over an existing raw object (UPDATE path) is parsed again",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const raw = await standinResponse("clean", crypto.randomUUID());
    const id = await generateLike(user, raw);
    assert.equal((await waitForStatus(id)).processing_status, "completed");

    // The same bytes again (a spool re-flush racing the original upload): re-parsed, same result.
    await uploadRaw(user, id, raw, true);
    const again = await waitForStatus(id, ["completed"], 10_000).then(async () => {
      for (let i = 0; i < 200; i++) {
        const r = await row(id);
        if (r && r.parse_attempts === 2 && r.processing_status === "completed") return r;
        await new Promise((res) => setTimeout(res, 25));
      }
      return await row(id);
    });
    assert.equal(again?.processing_status, "completed");
    assert.equal(again?.parse_attempts, 2, "the UPDATE re-marked the row and it was parsed a second time");

    // Different bytes over it: the sha256 recorded at generation no longer matches.
    await uploadRaw(user, id, await standinResponse("clean", crypto.randomUUID()), true);
    const r = await waitForStatus(id, ["parse_failed"]);
    assert.match(r.parse_error_message ?? "", /^raw_sha256_mismatch:/);
    assert.equal(r.parse_attempts, 3);
  },
});

Deno.test({
  name: "pipeline: a lost wake-up is recovered by a sweeper run",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const raw = await standinResponse("clean", crypto.randomUUID());
    const id = await withLostWakeups(async () => {
      const id = await generateLike(user, raw);
      // The wake-up is sent to a closed port and fails; the row waits.
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline) {
        const [resp] = await db()`
          select count(*)::int as n from net._http_response
           where error_msg is not null and created > now() - interval '1 minute'`;
        if (resp.n > 0) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      return id;
    });
    assert.equal((await row(id))?.processing_status, "raw_stored", "nothing parsed it");
    await sweep();
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "completed");
    assert.deepEqual((await attempts(id)).map((a) => a.triggered_by), ["sweeper"]);
  },
});

Deno.test({
  name: "pipeline: a worker that crashed after its claim is recovered once the lease ends",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const raw = await standinResponse("clean", crypto.randomUUID());
    const id = await withLostWakeups(() => generateLike(user, raw));
    // A worker claims with a 1 s lease and dies without writing anything.
    const [claim] = await db()`
      select attempt from private.claim_conversation(${id}::uuid, p_lease => interval '1 second')`;
    assert.equal(claim.attempt, 1);
    assert.equal((await row(id))?.processing_status, "parsing");
    const early = await invokeParse({ conversation_id: id });
    assert.equal((await early.json()).results[0].result, "skipped", "the claim holds while its lease runs");
    await new Promise((r) => setTimeout(r, 1100));
    // The sweeper reclaims it (pg_cron's own minute tick may get there first; the end state is the same).
    await sweep();
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "completed");
    assert.equal(r.parse_attempts, 2);
    assert.deepEqual(
      (await attempts(id)).map((a) => `${a.attempt_number}:${a.outcome}:${a.error_code}`),
      ["1:error:claim_expired", "2:parsed:null"],
    );
  },
});

Deno.test({
  name: "pipeline: five concurrent deliveries for one conversation make one attempt",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const raw = await standinResponse("clean", crypto.randomUUID());
    const id = await withLostWakeups(() => generateLike(user, raw));
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => invokeParse({ conversation_id: id })));
    const results = await Promise.all(answers.map(async (a) => (await a.json()).results[0].result));
    assert.deepEqual(results.filter((x) => x === "completed").length, 1, results.join(","));
    assert.deepEqual(results.filter((x) => x === "skipped").length, 4, results.join(","));
    const r = await row(id);
    assert.equal(r?.parse_attempts, 1);
    assert.equal((await attempts(id)).length, 1);
    // A duplicate delivery after the fact is a no-op too.
    const late = await (await invokeParse({ conversation_ids: [id, id] })).json();
    assert.deepEqual(late.results, [{
      conversation_id: id,
      result: "skipped",
      reason: "not_claimable",
      status: "completed",
    }]);
    assert.equal((await row(id))?.parse_attempts, 1);
  },
});

Deno.test({
  name: "pipeline: spooled raw bytes are uploaded by the sweeper's flush and then parsed",
  ...opts,
  fn: async () => {
    const user = await createUser();
    const raw = await standinResponse("fenced", crypto.randomUUID());
    const sha = await sha256Hex(raw);
    // What generate-conversation does when Storage stays down: spool row + raw_spooled, one transaction.
    const id = await createGeneratingRow(user, { rawSha256: sha, status: "raw_spooled" });
    await db()`insert into public.raw_response_spool (conversation_id, user_id, raw, raw_sha256, raw_size)
               values (${id}, ${user}, ${raw}, ${sha}, ${raw.byteLength})`;
    const summary = await sweep();
    assert.equal(summary.spool_flush_requested, true, JSON.stringify(summary));
    const r = await waitForStatus(id);
    assert.equal(r.processing_status, "completed");
    assert.equal(r.parse_method_used, "extracted");
    assert.equal(
      await downloadText(r.raw_response_path!),
      new TextDecoder().decode(raw),
      "the bytes, verbatim",
    );
    const [spool] =
      await db()`select count(*)::int as n from public.raw_response_spool where conversation_id = ${id}`;
    assert.equal(spool.n, 0, "the spool row is gone");
  },
});

Deno.test({
  name: "pipeline: parse-conversation refuses callers without the service key",
  ...opts,
  fn: async () => {
    const env = stackEnv();
    const res = await fetch(`${env.SUPABASE_URL}/functions/v1/parse-conversation`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.SUPABASE_ANON_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ conversation_id: crypto.randomUUID() }),
    });
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "forbidden");
  },
});

Deno.test({ name: "pipeline: close the database pool", ...opts, fn: closePipeline });
