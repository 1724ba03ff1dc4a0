/**
 * The Claude phase (shared/generate/call_claude.ts): an answer comes back verbatim with what the write-ahead
 * measures (truncation, the last byte's time); a failure marks the row `generation_failed` and is returned, never
 * thrown — even when the database cannot record it.
 */
import assert from "node:assert/strict";
import { callClaude } from "../../../shared/generate/call_claude.ts";
import type { PreparedConversation } from "../../../shared/generate/prepare.ts";
import { buildPrompt } from "../../../shared/generate/prompt.ts";
import {
  answer,
  arc,
  captureLogs,
  generatingRow,
  type Harness,
  harness,
  OVERLOADED as overloaded,
  persona,
  timerOf,
  topic,
  USER,
} from "./_fakes.ts";

const logs = captureLogs();

async function prepared(h: Harness): Promise<PreparedConversation> {
  return {
    conversationId: await generatingRow(h),
    userId: USER,
    prompt: buildPrompt({ persona, arc, topic, template: null, tier: "template" }, {}),
    maxTokens: 4096,
    warnings: [],
  };
}

Deno.test("callClaude() sends the prepared prompt and returns the answer with the time of its last event", async () => {
  const h = harness();
  const generate = h.claude.generate.bind(h.claude);
  h.claude.generate = (req) => {
    h.clock.t = 40;
    req.onProgress?.({ receivedChars: 10, contentBegan: true, attempt: 1, snapshot: () => ({}) });
    h.clock.t = 45;
    return generate(req);
  };
  const c = await prepared(h);
  const out = await callClaude(h.deps, c, timerOf(h));
  assert.equal(out.kind, "answered");
  if (out.kind !== "answered") return;
  assert.equal(out.answer.body, answer().body);
  assert.equal(out.truncated, false);
  assert.equal(out.lastByteAt, 40, "the last stream event, not the call's return");
  const sent = h.claude.requests[0];
  assert.equal(sent.prompt, c.prompt.prompt);
  assert.equal(sent.maxTokens, 4096);
  assert.equal(sent.conversationId, c.conversationId);
});

Deno.test("callClaude() flags a cut stream and a stop at the token or context limit as truncated", async () => {
  const cases = [
    answer({ truncated: true, truncation: "stream_cut", stopReason: null }),
    answer({ stopReason: "max_tokens" }),
    answer({ stopReason: "model_context_window_exceeded" }),
  ];
  for (const a of cases) {
    const h = harness();
    h.claude.result = { ok: true, answer: a };
    const out = await callClaude(h.deps, await prepared(h), timerOf(h));
    assert.equal(out.kind === "answered" && out.truncated, true, String(a.stopReason));
  }
});

Deno.test("callClaude() marks the row generation_failed when Claude fails after its retries", async () => {
  const h = harness();
  h.claude.result = { ok: false, failure: overloaded };
  const c = await prepared(h);
  const out = await callClaude(h.deps, c, timerOf(h));
  assert.deepEqual(out, { kind: "failed", failure: overloaded });
  const row = h.repo.rows.get(c.conversationId)!;
  assert.equal(row.processing_status, "generation_failed");
  assert.equal(
    row.generation_error,
    "Claude call failed after 4 attempt(s): 529 overloaded_error: Overloaded",
  );
  assert.equal(row.generation_attempts, 4);
});

Deno.test("callClaude() returns the failure even when the database cannot record it (the row stays generating)", async () => {
  const h = harness();
  h.claude.result = { ok: false, failure: overloaded };
  h.repo.down.add("markGenerationFailed");
  const c = await prepared(h);
  logs.length = 0;
  const out = await callClaude(h.deps, c, timerOf(h));
  assert.equal(out.kind, "failed");
  assert.equal(h.repo.rows.get(c.conversationId)!.processing_status, "generating");
  assert.ok(logs.some((l) => l.event === "generation_failed_unrecorded"));
});
