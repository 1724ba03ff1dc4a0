/**
 * The differential oracle: the parse engine against the floor (extraction, jsonrepair alone, the schema:
 * shared/parse/floor.ts) on thousands of generated cases (tests/fixtures/parse/damage.ts), every run.
 *
 * Two directions:
 * - never below the floor: where the floor recovered the true conversation exactly from a complete response,
 *   the engine must return `parsed` with exactly that conversation (unless the engine's error is a fabrication
 *   risk named in docs/PARSING.md, `NAMED_RISKS`; none is named today);
 * - never accept what the floor wrongly accepts: the engine returns `parsed` only for a complete response and
 *   only with the true conversation. The floor accepts cut and altered content in hundreds of generated cases
 *   (checked below, so this direction cannot pass vacuously); the engine must accept none of them.
 *
 * Seeded: `PARSE_ORACLE_SEED` (first seed, default 1) and `PARSE_ORACLE_CASES` (default 5000). A failure prints
 * each failing seed and the command that reproduces it:
 *   PARSE_ORACLE_SEED=1234 PARSE_ORACLE_CASES=1 deno test -A tests/unit/parse/differential_test.ts
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { type ParseErrorCode, parseStoredResponse, readEnvelope } from "../../../shared/parse/mod.ts";
import { readFloor } from "../../../shared/parse/floor.ts";
import { documentPrefixes, generateCase, type GeneratedCase } from "../../fixtures/parse/damage.ts";
import { makeConversation, render, textResponse } from "../../fixtures/parse/samples.ts";

const FIRST_SEED = Number(Deno.env.get("PARSE_ORACLE_SEED") ?? 1);
const CASES = Number(Deno.env.get("PARSE_ORACLE_CASES") ?? 5000);

/**
 * Error codes the engine may return where the floor recovered the conversation, each a fabrication risk named in
 * docs/PARSING.md with a generated case that shows the floor accepting wrong content. Empty: the engine recovers
 * every complete case the floor recovers.
 */
const NAMED_RISKS: ReadonlySet<ParseErrorCode> = new Set();

function textOf(raw: string): string {
  const envelope = readEnvelope(raw);
  return envelope.ok && envelope.envelope.content.kind === "text" ? envelope.envelope.content.text : "";
}

interface Verdict {
  readonly problem: string | null;
  readonly floorExact: boolean;
  readonly floorAcceptsWrong: boolean;
}

/** Judges one case against the truth and the floor; `problem` is null when the engine behaved. */
function judge(generated: GeneratedCase): Verdict {
  const result = parseStoredResponse(generated.raw);
  const floor = readFloor(textOf(generated.raw));
  const floorExact = floor.ok && isDeepStrictEqual(floor.conversation, generated.truth);
  const floorAcceptsWrong = floor.ok && (!generated.complete || !floorExact);
  const engineExact = result.outcome === "parsed" && isDeepStrictEqual(result.conversation, generated.truth);
  let problem: string | null = null;
  if (result.outcome === "parsed" && !generated.complete) {
    problem = "accepted a cut response as parsed";
  } else if (result.outcome === "parsed" && !engineExact) {
    problem = "accepted altered content as parsed";
  } else if (generated.complete && floorExact && !engineExact) {
    const code = result.error?.code;
    if (code === undefined || !NAMED_RISKS.has(code)) {
      problem = `below the floor: ${result.outcome}/${code ?? "-"} where jsonrepair alone recovered it`;
    }
  }
  return { problem, floorExact, floorAcceptsWrong };
}

Deno.test(`parseStoredResponse() is never below jsonrepair alone and never accepts cut or altered content (${CASES} generated cases)`, () => {
  const problems: string[] = [];
  let floorExact = 0;
  let floorAcceptsWrong = 0;
  let complete = 0;
  for (let seed = FIRST_SEED; seed < FIRST_SEED + CASES; seed++) {
    const generated = generateCase(seed);
    const verdict = judge(generated);
    if (generated.complete) complete++;
    if (verdict.floorExact && generated.complete) floorExact++;
    if (verdict.floorAcceptsWrong) floorAcceptsWrong++;
    if (verdict.problem !== null) {
      problems.push(`seed ${seed} [${generated.classes.join(" + ")}]: ${verdict.problem}`);
    }
  }
  if (problems.length > 0) {
    console.error(
      `${problems.length} failing seeds; reproduce one with\n  PARSE_ORACLE_SEED=<seed> PARSE_ORACLE_CASES=1 ` +
        "deno test -A tests/unit/parse/differential_test.ts\n" + problems.slice(0, 20).join("\n"),
    );
  }
  assert.deepEqual(problems.slice(0, 20), [], `first seed ${FIRST_SEED}, ${CASES} cases`);
  if (CASES >= 1000) {
    // The oracle has teeth only if the generator gives the floor work in both directions.
    assert.ok(floorExact > CASES / 3, `the floor recovered ${floorExact} cases`);
    assert.ok(floorAcceptsWrong > CASES / 50, `the floor accepted ${floorAcceptsWrong} cut or altered cases`);
    assert.ok(complete > floorExact, "the generator makes complete cases the floor cannot recover");
  }
});

Deno.test("parseStoredResponse() never parses a prefix of a commented, typographic-quoted document", () => {
  for (const seed of [11, 12]) {
    const { prefixes, stopReason } = documentPrefixes(seed);
    const parsed = prefixes
      .map((prefix, cut) => ({ cut, result: parseStoredResponse(textResponse(prefix, { stopReason })) }))
      .filter(({ result }) => result.outcome === "parsed")
      .map(({ cut }) => `seed ${seed} cut ${cut}`);
    assert.deepEqual(parsed, []);
  }
});

// The classes an outside corpus found, as single cases (the generator mixes them; these name them).
const conversation = makeConversation(7, { turns: 4, sentences: 2 });
const pretty = render(conversation, true).text;

Deno.test("parseStoredResponse() recovers JS comments, typographic quotes and a fenced string literal", () => {
  const lines = pretty.split("\n");
  const commented = [
    lines[0],
    "  // Elena's reply, see https://example.com/a?b=1",
    ...lines.slice(1, 8),
    '    /* the client\'s "first" turn */',
    ...lines.slice(8),
  ].join("\n");
  let quotes = 0;
  // Every unescaped quote alternates: an opening “ then a closing ”.
  const typographic = JSON.stringify(conversation).replace(
    /(?<!\\)"/g,
    () => quotes++ % 2 === 0 ? "\u201c" : "\u201d",
  );
  const literal = "```json\n" + JSON.stringify(JSON.stringify(conversation)) + "\n```";
  for (const [name, text] of [["comments", commented], ["typographic", typographic], ["literal", literal]]) {
    const result = parseStoredResponse(textResponse(text));
    assert.equal(result.outcome, "parsed", name);
    assert.deepEqual(result.conversation, conversation, name);
  }
});

Deno.test("parseStoredResponse() flags content cut at an opening quote as partial, keeps a closing quote", () => {
  const cut = structuredClone(conversation);
  cut.turns[3].content = 'The fee schedule says the fund is "';
  const cutResult = parseStoredResponse(textResponse(JSON.stringify(cut)));
  assert.equal(cutResult.outcome, "partial");
  assert.equal(cutResult.error?.code, "truncated_content");
  assert.deepEqual(cutResult.conversation?.turns, conversation.turns.slice(0, 3));

  for (const ending of [' He said "no."', ' They call it the "snowball"', " (in small print)", " See: [1]"]) {
    const kept = structuredClone(conversation);
    kept.turns[3].content += ending;
    const result = parseStoredResponse(textResponse(JSON.stringify(kept)));
    assert.equal(result.outcome, "parsed", ending);
  }
  for (const ending of [" see (", " the options [", " called \u201c", " it's '"]) {
    const open = structuredClone(conversation);
    open.turns[3].content += ending;
    assert.equal(
      parseStoredResponse(textResponse(JSON.stringify(open))).error?.code,
      "truncated_content",
      ending,
    );
  }
});
