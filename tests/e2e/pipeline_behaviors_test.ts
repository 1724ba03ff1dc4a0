/**
 * generate → trigger → parse → final state, for each Claude stand-in behaviour, through the real functions:
 * generate-conversation (service key + x-user-id) calls the stand-in, stores the raw response, the storage
 * trigger wakes parse-conversation. The expected end state is the parse engine's verdict on the stored bytes
 * (this suite tests the pipeline, not the parser), and the table pins the verdict each behaviour must lead to.
 * The stand-in's default behaviour is switched per test through its admin endpoint and restored.
 */
import assert from "node:assert/strict";
import { finalObjectPath } from "../../shared/pipeline/object_paths.ts";
import { parseStoredResponse } from "../../shared/parse/mod.ts";
import {
  attempts,
  closePipeline,
  createUser,
  downloadText,
  ensureSecrets,
  stackEnv,
  waitForStatus,
} from "../integration/parse/_pipeline.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Fixed scaffolding ids from supabase/seed.sql (docs/DATABASE.md). */
const BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

async function setStandinDefault(behavior: string | null): Promise<void> {
  const res = await fetch(`${stackEnv().ANTHROPIC_BASE_URL}/__admin/behavior`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behavior }),
  });
  assert.equal(res.status, 200, await res.text());
}

await ensureSecrets();

/**
 * behaviour, the verdict it must produce (null: either way), the method when parsed. Pinning the verdict also
 * proves the behaviour took effect: a stand-in that ignored it would answer clean and fail these.
 */
const behaviors: ReadonlyArray<[string, "parsed" | "partial" | "failed" | null, string | null]> = [
  ["clean", "parsed", "direct"],
  ["tool_use", "parsed", "direct"],
  ["structured", "parsed", "direct"],
  ["fenced", "parsed", "extracted"],
  ["prose_wrapped", "parsed", "extracted"],
  ["trailing_commas", "parsed", "jsonrepair"],
  ["schema_rejected", "parsed", "direct"], // generate falls back to plain JSON instructions
  ["fail_then_succeed:1:overloaded", "parsed", "direct"], // generate retries the 529
  ["unescaped_quotes", null, null],
  ["truncated", "partial", null],
  ["truncated_content", "partial", null],
  ["refusal", "failed", null],
  ["empty", "failed", null],
  ["stream_cut", "partial", null], // what arrived is stored, flagged truncated
];

for (const [behavior, expected, method] of behaviors) {
  Deno.test({
    name: `e2e: generate with the stand-in's ${behavior} → raw stored → parsed to the engine's verdict`,
    ...opts,
    fn: async () => {
      const user = await createUser();
      const env = stackEnv();
      await setStandinDefault(behavior);
      let res: Response;
      try {
        res = await fetch(`${env.SUPABASE_URL}/functions/v1/generate-conversation`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`,
            "x-user-id": user,
            "content-type": "application/json",
          },
          body: JSON.stringify(BODY),
        });
      } finally {
        await setStandinDefault(null);
      }
      const json = await res.json();
      assert.equal(res.status, 201, JSON.stringify(json));
      const id: string = json.conversation_id;
      const r = await waitForStatus(id);
      const raw = new TextEncoder().encode(await downloadText(r.raw_response_path!));
      const verdict = parseStoredResponse(raw);
      if (expected) assert.equal(verdict.outcome, expected, `${behavior}: ${verdict.error?.message}`);
      if (method) assert.equal(verdict.method, method);
      if (verdict.outcome === "parsed") {
        assert.equal(r.processing_status, "completed", JSON.stringify(r));
        assert.equal(r.parse_method_used, verdict.method);
        assert.equal(r.file_path, finalObjectPath(user, id));
        const final = JSON.parse(await downloadText(r.file_path!));
        assert.equal(final.input_parameters.persona_id, BODY.persona_id);
        assert.deepEqual(final.turns, verdict.conversation.turns);
      } else {
        assert.equal(r.processing_status, "parse_failed", JSON.stringify(r));
        assert.equal(r.requires_manual_review, true);
        assert.equal(r.parse_error_message, `${verdict.error.code}: ${verdict.error.message}`);
      }
      const log = await attempts(id);
      assert.equal(log.length, 1, "one parse attempt");
      assert.equal(log[0].outcome, verdict.outcome);
    },
  });
}

Deno.test({ name: "e2e behaviours: close the database pool", ...opts, fn: closePipeline });
