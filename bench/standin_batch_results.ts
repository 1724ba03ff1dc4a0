/**
 * How the stand-in serves a large batch's results: a 10,000-request `mixed` batch created and downloaded
 * through @anthropic-ai/sdk (`messages.batches.results`) in this process, reporting lines/s, bytes, and the
 * process's resident memory before, at its peak during, and after the download. The body is rendered line by
 * line as it is read (local/claude_standin/batches.ts), so the peak should stay far below the file's size
 * times the copies a built string would need. Run: `deno run -A bench/standin_batch_results.ts [requests]`.
 * Figures: docs/BATCHES.md ("The stand-in").
 */
import Anthropic from "@anthropic-ai/sdk";
import { createStandin } from "../local/claude_standin/server.ts";

const n = Number(Deno.args[0] ?? 10_000);
const standin = createStandin();
const client = new Anthropic({
  apiKey: "sk-ant-local-bench",
  baseURL: "http://standin.bench",
  maxRetries: 0,
  fetch: (input, init) => standin.handler(new Request(input, init)),
});
const prompt =
  "Persona: Dana Reyes - Anxious Planner\nEmotional arc: fear → confidence\nTopic: 401(k)\nTurns: 8";
const requests = Array.from({ length: n }, (_, i) => ({
  custom_id: `bench-${i}`,
  params: {
    model: "claude-sonnet-4-5",
    max_tokens: 4096,
    messages: [{ role: "user" as const, content: prompt }],
  },
}));
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
const batch = await client.messages.batches.create({ requests }, {
  headers: { "x-standin-batch-processing-ms": "0", "x-standin-behavior": "mixed" },
});
(globalThis as { gc?: () => void }).gc?.();
const before = Deno.memoryUsage().rss;
let peak = before;
let lines = 0;
let chars = 0;
const t0 = performance.now();
for await (const line of await client.messages.batches.results(batch.id)) {
  lines++;
  if (line.result.type === "succeeded") chars += JSON.stringify(line.result.message).length;
  if (lines % 500 === 0) peak = Math.max(peak, Deno.memoryUsage().rss);
}
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  requests: n,
  lines,
  lines_per_s: Math.round(lines / secs),
  seconds: Number(secs.toFixed(2)),
  succeeded_message_mb: Number(mb(chars)),
  rss_before_mb: Number(mb(before)),
  rss_peak_mb: Number(mb(peak)),
  rss_growth_mb: Number(mb(peak - before)),
}));
