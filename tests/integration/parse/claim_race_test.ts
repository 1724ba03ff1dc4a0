/**
 * The claim under real concurrency: separate connections (one postgres.js client each, so nothing is serialised
 * on our side) call private.claim_conversation for the same row at once. Exactly one must win, whatever the
 * interleaving; the finishing calls are fenced the same way.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { closePipeline, createGeneratingRow, createUser, db, stackEnv } from "./_pipeline.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function connections(n: number): postgres.Sql[] {
  return Array.from({ length: n }, () => postgres(stackEnv().SUPABASE_DB_URL, { prepare: false, max: 1 }));
}

async function rawStoredRow(): Promise<string> {
  const user = await createUser();
  const id = await createGeneratingRow(user);
  // As the trigger leaves it (no object needed: only the claim is under test).
  await db()`update public.conversations set processing_status = 'raw_stored',
               raw_response_path = ${`raw/${user}/${id}.json`}, raw_stored_at = now(), next_attempt_at = now()
             where conversation_id = ${id}`;
  return id;
}

Deno.test({
  name: "claim_conversation(): five concurrent claims on five connections make exactly one attempt",
  ...opts,
  fn: async () => {
    const clients = connections(5);
    try {
      for (let round = 0; round < 20; round++) {
        const id = await rawStoredRow();
        // Open all five connections first so the calls really start together.
        await Promise.all(clients.map((c) => c`select 1`));
        const won = await Promise.all(
          clients.map((c) => c`select attempt from private.claim_conversation(${id}::uuid)`),
        );
        const winners = won.filter((rows) => rows.length === 1);
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
        assert.equal(winners[0][0].attempt, 1);
        const [r] = await db()`select parse_attempts, processing_status from public.conversations
                                where conversation_id = ${id}`;
        assert.equal(r.parse_attempts, 1);
        assert.equal(r.processing_status, "parsing");
      }
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  },
});

Deno.test({
  name: "complete_parse() and release_parse_claim() racing for one claim: exactly one applies",
  ...opts,
  fn: async () => {
    const [a, b] = connections(2);
    try {
      for (let round = 0; round < 10; round++) {
        const id = await rawStoredRow();
        await db()`select * from private.claim_conversation(${id}::uuid)`;
        const [done, released] = await Promise.all([
          a`select private.complete_parse(${id}::uuid, 1, 'direct', 'test', 2, 'f', 1, 'n') as ok`,
          b`select outcome from private.release_parse_claim(${id}::uuid, 1, 'storage_unavailable', 'x', 'test')`,
        ]);
        const completed = done[0].ok === true;
        const releasedOk = released[0].outcome === "released";
        assert.ok(completed !== releasedOk, `round ${round}: completed=${completed} released=${releasedOk}`);
        const [log] = await db()`select count(*)::int as n from public.conversation_parse_attempts
                                  where conversation_id = ${id}`;
        assert.equal(log.n, 1, "one attempts-log row for one attempt");
      }
    } finally {
      await a.end();
      await b.end();
    }
  },
});

Deno.test({ name: "claim race: close the database pool", ...opts, fn: closePipeline });
