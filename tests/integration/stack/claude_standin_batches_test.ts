/**
 * The stand-in's Message Batches API as the gateway serves it on LOCAL_CLAUDE_PORT, through the real
 * @anthropic-ai/sdk over HTTP: `results_url` points back at the stand-in's own host and port, the JSONL body
 * streams over a real connection, and a cut download reaches the SDK as a network error. Each batch sets its
 * own processing time by header and the fault names its batch, so nothing here changes shared stand-in state.
 * (The API's rules — counts, list paging, cancel, 413, duplicates — are covered in-process by
 * tests/unit/local/claude_standin/batches_test.ts.)
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { stackEnv, stackTest, standinAdmin } from "../../support/stack.ts";

function client(): Anthropic {
  return new Anthropic({
    apiKey: "sk-ant-local-test",
    baseURL: stackEnv().ANTHROPIC_BASE_URL,
    maxRetries: 0,
  });
}

function requests(n: number) {
  const run = crypto.randomUUID().slice(0, 8);
  return Array.from({ length: n }, (_, i) => ({
    custom_id: `it-${run}-${i}`,
    params: {
      model: "claude-sonnet-4-5",
      max_tokens: 4096,
      messages: [{
        role: "user" as const,
        content: "Persona: Marcus Lee - Skeptic\nEmotional arc: doubt → trust\nTopic: index funds\nTurns: 4",
      }],
    },
  }));
}

stackTest(
  "stand-in batches over HTTP: results_url is on the stand-in's host and its JSONL decodes",
  async () => {
    const c = client();
    const reqs = requests(50);
    const batch = await c.messages.batches.create({ requests: reqs }, {
      headers: { "x-standin-batch-processing-ms": "0" },
    });
    const ended = await c.messages.batches.retrieve(batch.id);
    assert.equal(ended.processing_status, "ended");
    assert.equal(
      ended.results_url,
      `${stackEnv().ANTHROPIC_BASE_URL}/v1/messages/batches/${batch.id}/results`,
    );
    const ids: string[] = [];
    for await (const line of await c.messages.batches.results(batch.id)) {
      assert.equal(line.result.type, "succeeded");
      if (line.result.type === "succeeded") assert.equal(line.result.message.usage.service_tier, "batch");
      ids.push(line.custom_id);
    }
    assert.deepEqual(ids.toSorted(), reqs.map((r) => r.custom_id).toSorted());
    const listed = await standinAdmin("batches") as Array<{ id: string; requests: number }>;
    assert.equal(listed.find((b) => b.id === batch.id)?.requests, 50);
    assert.deepEqual(await c.messages.batches.delete(batch.id), {
      id: batch.id,
      type: "message_batch_deleted",
    });
  },
);

stackTest(
  "stand-in batches over HTTP: a cut results download is a network error in the SDK, once",
  async () => {
    const c = client();
    const batch = await c.messages.batches.create({ requests: requests(300) }, {
      headers: { "x-standin-batch-processing-ms": "0" },
    });
    await c.messages.batches.retrieve(batch.id);
    await standinAdmin("batches/fault", {
      method: "POST",
      body: JSON.stringify({ cut_after_lines: 120, batch_id: batch.id }),
    });
    let seen = 0;
    await assert.rejects(async () => {
      for await (const _ of await c.messages.batches.results(batch.id)) seen++;
    });
    assert.ok(seen <= 120, `no line past the cut decodes (saw ${seen})`);
    let whole = 0;
    for await (const _ of await c.messages.batches.results(batch.id)) whole++;
    assert.equal(whole, 300);
    await c.messages.batches.delete(batch.id);
  },
);
