/**
 * Worst-case inputs for the parse engine (issue 13): shapes an attacker or a broken model can store, each about
 * 10 MiB (one 1 MiB string), parsed by the whole chain. Each must finish, or be refused, within 200 ms here:
 * hosted Edge Functions give 2 s of CPU per request, and the sweeper batches several conversations per request.
 *
 *   deno bench -A bench/parse_worst.bench.ts          mean and percentiles
 *   deno run -A bench/parse_worst.bench.ts --report   a Markdown table (docs/BENCHMARKS.md), with the outcome
 *
 * Two rows per shape: the default parser, which refuses raw objects over its size limit (`too_large`), and one
 * with the limit lifted to 16 MiB, which shows the engine's own bounds (depth, repair size) on the same bytes.
 * The `limit:` shapes sit just under the default limit: what an accepted raw object can cost at worst.
 */
import { createParser, type Parser, parseStoredResponse } from "../shared/parse/mod.ts";
import { textResponse } from "../tests/fixtures/parse/samples.ts";

const MIB = 1024 * 1024;
const encoder = new TextEncoder();

function repeatTo(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/** The shapes: the text block of an otherwise well-formed Messages API response. */
const SHAPES: readonly { readonly name: string; readonly text: string }[] = [
  { name: "10 MiB of [", text: repeatTo("[", 10 * MIB) },
  { name: "10 MiB of {", text: repeatTo("{", 10 * MIB) },
  { name: "10 MiB of keys", text: "{" + repeatTo('"k":1,', 10 * MIB) },
  { name: "10 MiB of inner quotes", text: '{"a":"' + repeatTo('x", "', 10 * MIB) },
  { name: "10 MiB of unclosed comments", text: "{" + repeatTo('"/*",', 10 * MIB) },
  { name: "1 MiB single string", text: '{"conversation_metadata":"' + repeatTo("word ", MIB) + '"}' },
  // Just under the default limit (1 MiB raw, after the envelope's escaping): the engine's own cost.
  { name: "limit: inner quotes", text: '{"a":"' + repeatTo('x", "', 0.6 * MIB) },
  { name: "limit: keys", text: "{" + repeatTo('"k":1,', 0.7 * MIB) },
  { name: "limit: unclosed string", text: '{"turns":[{"content":"' + repeatTo('a "b", ', 0.7 * MIB) },
  { name: "limit: [", text: repeatTo("[", MIB - 1024) },
];

const lifted = createParser({ maxRawBytes: 16 * MIB });
const parsers: readonly { readonly label: string; readonly parse: Parser }[] = [
  { label: "default", parse: parseStoredResponse },
  { label: "limit lifted", parse: lifted },
];

const raws = SHAPES.map((shape) => ({ ...shape, raw: encoder.encode(textResponse(shape.text)) }));

for (const { name, raw } of raws) {
  for (const { label, parse } of parsers) {
    Deno.bench({ name: `${name} (${label})`, n: 5, warmup: 1, fn: () => void parse(raw) });
  }
}

if (Deno.args.includes("--report")) {
  console.log("| input | raw size | parser | outcome | median | max |\n|---|---:|---|---|---:|---:|");
  for (const { name, raw } of raws) {
    for (const { label, parse } of parsers) {
      const times: number[] = [];
      let outcome = "";
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        const result = parse(raw);
        times.push(performance.now() - started);
        outcome = `${result.outcome} / ${result.error?.code ?? result.method}`;
      }
      times.sort((a, b) => a - b);
      const size = `${(raw.length / MIB).toFixed(1)} MiB`;
      console.log(
        `| ${name} | ${size} | ${label} | ${outcome} | ${times[2].toFixed(0)} ms | ${
          times[4].toFixed(0)
        } ms |`,
      );
    }
  }
}
