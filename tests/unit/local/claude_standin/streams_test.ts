/**
 * The stand-in's `drip` behaviour and its record of the streams it sent (GET /__admin/streams), which the chaos
 * run uses for "every answer the stand-in sent is stored or its loss is recorded".
 */
import assert from "node:assert/strict";
import { createStandin } from "../../../../local/claude_standin/server.ts";

function messagesRequest(seed: string, behavior: string): Request {
  return new Request("http://standin/v1/messages", {
    method: "POST",
    headers: {
      "x-api-key": "k",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      "x-standin-seed": seed,
      "x-standin-behavior": behavior,
    },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      stream: true,
      messages: [{ role: "user", content: "Persona: Marcus. Arc: confusion to clarity. Topic: budgeting." }],
    }),
  });
}

async function streams(standin: ReturnType<typeof createStandin>) {
  const res = await standin.handler(new Request("http://standin/__admin/streams"));
  return await res.json() as Array<{ seed: string; complete: boolean; events: number }>;
}

Deno.test("stand-in: a drip stream takes its time, and a finished stream is recorded as sent", async () => {
  const standin = createStandin();
  const t0 = performance.now();
  const res = await standin.handler(messagesRequest("conv-1", "drip:300+clean"));
  const text = await res.text();
  const ms = performance.now() - t0;
  assert.ok(text.includes("message_stop"));
  assert.ok(ms >= 250, `the events were spread over ~300 ms (took ${ms.toFixed(0)} ms)`);
  const [s] = await streams(standin);
  assert.equal(s.seed, "conv-1");
  assert.equal(s.complete, true);
  assert.ok(s.events > 5);
});

Deno.test("stand-in: a stream the client abandons is not recorded as sent; a cut one is, as incomplete", async () => {
  const standin = createStandin();
  const res = await standin.handler(messagesRequest("conv-2", "drip:2000+clean"));
  const reader = res.body!.getReader();
  await reader.read();
  await reader.cancel();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual((await streams(standin)).map((s) => s.seed), []);

  const cut = await standin.handler(messagesRequest("conv-3", "stream_cut"));
  await cut.text().catch(() => "");
  const [s] = await streams(standin);
  assert.deepEqual([s.seed, s.complete], ["conv-3", false]);
});
