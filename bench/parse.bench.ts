/**
 * Parse engine benchmark: whole-chain time for stored responses of about 5 kB, 50 kB and 500 kB.
 *
 *   deno bench -A bench/parse.bench.ts                  mean and percentiles, per size group
 *   deno run -A bench/parse.bench.ts --medians          a Markdown table of medians (docs/BENCHMARKS.md)
 *
 * clean     structured-output text: envelope + JSON.parse + schema (the common case)
 * quotes    unescaped inner quotes only, some before a comma (`"max it out", they`): the grammar's escaping
 *           step makes the text valid, so jsonrepair has nothing left to do
 * damaged   fenced, with unescaped inner quotes, literal newlines and trailing commas: extraction, the
 *           structural scan, escaping, jsonrepair turn by turn and the schema (the pre-structured-outputs
 *           failure mode)
 * truncated cut at 90 % with stop_reason max_tokens: scan, cut back, parse the complete part, salvage
 *
 * Targets (issue 10): clean 50 kB <= 1 ms, damaged 50 kB <= 10 ms, damaged 500 kB <= 100 ms.
 */
import { type Conversation, parseStoredResponse } from "../shared/parse/mod.ts";
import {
  fenced,
  literalNewlines,
  makeConversation,
  render,
  textResponse,
  trailingCommas,
  unescapeQuotes,
} from "../tests/fixtures/parse/samples.ts";

const encoder = new TextEncoder();

/** A generated conversation grown until the response body of its pretty JSON reaches `bytes`. */
function conversationOfSize(bytes: number): Conversation {
  let turns = 2;
  let conversation = makeConversation(100, { turns, sentences: 4 });
  while (encoder.encode(textResponse(render(conversation, true).text)).length < bytes) {
    turns += 2;
    conversation = makeConversation(100, { turns, sentences: 4 });
  }
  return conversation;
}

/** Every third turn gets a quote before a comma, the case jsonrepair alone cannot read. */
function withCommaQuotes(conversation: Conversation): Conversation {
  const turns = conversation.turns.map((turn, index) =>
    index % 3 === 0
      ? { ...turn, content: `${turn.content} They call it "the snowball", which is fine.` }
      : turn
  );
  return { ...conversation, turns };
}

interface BenchCase {
  readonly name: string;
  readonly group: string;
  readonly raw: Uint8Array;
  /** The path the case must take; checked once so a fixture cannot silently stop exercising it. */
  readonly expected: string;
}

const cases: BenchCase[] = [];
for (const [group, bytes] of [["5 kB", 5_000], ["50 kB", 50_000], ["500 kB", 500_000]] as const) {
  const conversation = conversationOfSize(bytes);
  const text = render(conversation, true).text;
  const quotes = unescapeQuotes(render(withCommaQuotes(conversation), true).text);
  const damaged = fenced(trailingCommas(literalNewlines(unescapeQuotes(text))));
  const truncated = text.slice(0, Math.floor(text.length * 0.9));
  cases.push(
    { name: `clean ${group}`, group, raw: encoder.encode(textResponse(text)), expected: "parsed/direct" },
    {
      name: `quotes ${group}`,
      group,
      raw: encoder.encode(textResponse(quotes)),
      expected: "parsed/jsonrepair",
    },
    {
      name: `damaged ${group}`,
      group,
      raw: encoder.encode(textResponse(damaged)),
      expected: "parsed/jsonrepair",
    },
    {
      name: `truncated ${group}`,
      group,
      raw: encoder.encode(textResponse(truncated, { stopReason: "max_tokens" })),
      expected: "partial/jsonrepair",
    },
  );
}

for (const { name, raw, expected } of cases) {
  const result = parseStoredResponse(raw);
  if (`${result.outcome}/${result.method}` !== expected) {
    throw new Error(`bench case ${name}: expected ${expected}, got ${result.outcome}/${result.method}`);
  }
}

for (const { name, group, raw } of cases) {
  Deno.bench({ name, group, baseline: name.startsWith("clean"), fn: () => void parseStoredResponse(raw) });
}

/** Median time per call in ms: batches of >= 2 ms (beyond the timer's resolution), for about 1 s per case. */
function median(raw: Uint8Array): number {
  for (let i = 0; i < 20; i++) parseStoredResponse(raw);
  const started = performance.now();
  parseStoredResponse(raw);
  const batch = Math.max(1, Math.ceil(2 / Math.max(performance.now() - started, 0.001)));
  const samples: number[] = [];
  const deadline = performance.now() + 1000;
  while (samples.length < 15 || (performance.now() < deadline && samples.length < 500)) {
    const begin = performance.now();
    for (let i = 0; i < batch; i++) parseStoredResponse(raw);
    samples.push((performance.now() - begin) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

function format(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`;
}

if (Deno.args.includes("--medians")) {
  console.log("| case | body | median |\n|---|---:|---:|");
  for (const { name, raw } of cases) {
    console.log(`| ${name} | ${(raw.length / 1000).toFixed(1)} kB | ${format(median(raw))} |`);
  }
}
