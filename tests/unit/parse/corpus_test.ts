/**
 * Runs the parse corpus (tests/fixtures/parse/corpus.ndjson, built by build_corpus.ts).
 *
 * The contract from the issue: every `parsed` expectation is met exactly (the conversation deep-equal to the
 * expected one), and no truncated or invalid case comes out `parsed`. Every other expectation (outcome, method,
 * error code, partial conversation) is checked too, so a behaviour change shows up here and bumps the version.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { type ParseResult, parseStoredResponse } from "../../../shared/parse/mod.ts";
import {
  buildCorpus,
  type CorpusCase,
  type CorpusEntry,
  rawOf,
  readCorpus,
  type SweepCase,
  toNdjson,
} from "../../fixtures/parse/build_corpus.ts";
import { expectedPartial, textResponse } from "../../fixtures/parse/samples.ts";

const corpus = await readCorpus();
const cases = corpus.filter((entry): entry is CorpusCase => entry.category !== "truncation_sweep");
const sweeps = corpus.filter((entry): entry is SweepCase => entry.category === "truncation_sweep");

/** Categories whose input is truncated or not a conversation at all: none of them may come out parsed. */
const NEVER_PARSED = new Set([
  "max_tokens_cut",
  "cut_end_turn",
  "fenced_cut",
  "inner_quote_cut",
  "max_tokens_complete",
  "no_stop_reason",
  "dangling_escape",
  "missing_final_turn",
  "refusal",
  "empty_output",
  "invalid_envelope",
  "no_json",
  "ambiguous_quotes",
  "two_documents",
  "json_not_object",
  "too_few_turns",
]);

function mismatches(entry: CorpusCase, result: ParseResult): string[] {
  const expect = entry.expect;
  const problems: string[] = [];
  if (result.outcome !== expect.outcome) {
    problems.push(`outcome ${result.outcome}, expected ${expect.outcome}`);
  }
  if (expect.method !== undefined && result.method !== expect.method) {
    problems.push(`method ${result.method}, expected ${expect.method}`);
  }
  if (expect.errorCode !== undefined && result.error?.code !== expect.errorCode) {
    problems.push(`error ${result.error?.code}, expected ${expect.errorCode}`);
  }
  if (expect.conversation !== undefined && !isDeepStrictEqual(result.conversation, expect.conversation)) {
    problems.push("conversation differs from the expected one");
  }
  return problems.map((problem) => `${entry.id}: ${problem}`);
}

Deno.test("corpus.ndjson is what build_corpus.ts generates", async () => {
  const built: CorpusEntry[] = await buildCorpus();
  assert.equal(toNdjson(corpus), toNdjson(built), "run: deno run -RW tests/fixtures/parse/build_corpus.ts");
});

Deno.test("corpus has at least 200 cases over at least 20 failure categories", () => {
  assert.ok(cases.length >= 200, `${cases.length} cases`);
  const failureCategories = new Set(
    cases.filter((entry) => entry.category !== "clean").map((entry) => entry.category),
  );
  assert.ok(failureCategories.size >= 20, `${failureCategories.size} categories`);
  assert.ok(sweeps.length >= 3);
});

Deno.test("parseStoredResponse() meets every corpus expectation", () => {
  const problems = cases.flatMap((entry) => mismatches(entry, parseStoredResponse(rawOf(entry))));
  assert.deepEqual(problems, []);
});

Deno.test("parseStoredResponse() reports no truncated or invalid corpus case as parsed", () => {
  const wronglyParsed = cases
    .filter((entry) => NEVER_PARSED.has(entry.category) || entry.expect.outcome !== "parsed")
    .filter((entry) => parseStoredResponse(rawOf(entry)).outcome === "parsed")
    .map((entry) => entry.id);
  assert.deepEqual(wronglyParsed, []);
});

Deno.test("parseStoredResponse() keeps every parsed corpus string exactly as written", () => {
  // Every parsed conversation equals its source, which already covers this; this names the failure better.
  for (const entry of cases.filter((candidate) => candidate.expect.outcome === "parsed")) {
    const result = parseStoredResponse(rawOf(entry));
    assert.equal(result.outcome, "parsed", entry.id);
    const expected = entry.expect.conversation;
    if (result.outcome !== "parsed" || expected === undefined || expected === null) continue;
    result.conversation.turns.forEach((turn, index) => {
      assert.equal(turn.content, expected.turns[index]?.content, `${entry.id} turns[${index}].content`);
    });
  }
});

for (const sweep of sweeps) {
  Deno.test(`parseStoredResponse() never parses a cut of ${sweep.id} and keeps exactly the complete turns`, () => {
    const { prefix, text, stopReason, source, documentEnd, metadataEnd, turnEnds } = sweep.sweep;
    const rendered = { text, documentEnd, metadataEnd, turnEnds };
    const problems: string[] = [];
    for (let cut = 0; cut < documentEnd; cut++) {
      const result = parseStoredResponse(textResponse(prefix + text.slice(0, cut), { stopReason }));
      const expected = expectedPartial(source, rendered, cut);
      if (result.outcome === "parsed") {
        problems.push(`cut ${cut}: parsed`);
      } else if (
        expected !== null &&
        (result.outcome !== "partial" || !isDeepStrictEqual(result.conversation, expected))
      ) {
        problems.push(
          `cut ${cut}: ${result.outcome} with ${result.conversation?.turns.length ?? "no"} turns`,
        );
      } else if (result.outcome === "partial" && result.conversation !== null && expected === null) {
        problems.push(`cut ${cut}: kept something incomplete`);
      }
      if (problems.length > 10) break;
    }
    assert.deepEqual(problems, []);
  });
}
