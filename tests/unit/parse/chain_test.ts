import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  ConversationSchema,
  createParser,
  errorPattern,
  PARSER_VERSION,
  type ParseResult,
  parseStoredResponse,
} from "../../../shared/parse/mod.ts";
import { type CorpusCase, rawOf, readCorpus } from "../../fixtures/parse/build_corpus.ts";
import {
  fenced,
  makeConversation,
  render,
  seededRandom,
  textResponse,
  toolUseResponse,
  trailingCommas,
  unescapeQuotes,
} from "../../fixtures/parse/samples.ts";

const conversation = makeConversation(21, { turns: 4 });
const pretty = render(conversation, true).text;

Deno.test("parseStoredResponse() takes each path of the chain", () => {
  const cases: {
    name: string;
    raw: string | Uint8Array;
    outcome: string;
    method: string | null;
    code: string | null;
  }[] = [
    { name: "clean text", raw: textResponse(pretty), outcome: "parsed", method: "direct", code: null },
    {
      name: "bytes",
      raw: new TextEncoder().encode(textResponse(pretty)),
      outcome: "parsed",
      method: "direct",
      code: null,
    },
    {
      name: "tool input",
      raw: toolUseResponse(conversation),
      outcome: "parsed",
      method: "direct",
      code: null,
    },
    { name: "fenced", raw: textResponse(fenced(pretty)), outcome: "parsed", method: "extracted", code: null },
    {
      name: "damaged",
      raw: textResponse(trailingCommas(pretty)),
      outcome: "parsed",
      method: "jsonrepair",
      code: null,
    },
    {
      name: "cut",
      raw: textResponse(pretty.slice(0, 900), { stopReason: "max_tokens" }),
      outcome: "partial",
      method: "jsonrepair",
      code: "truncated_output",
    },
    {
      name: "refusal",
      raw: textResponse("No.", { stopReason: "refusal" }),
      outcome: "failed",
      method: null,
      code: "refusal",
    },
    { name: "empty", raw: textResponse(""), outcome: "failed", method: null, code: "empty_output" },
    { name: "prose", raw: textResponse("Sorry."), outcome: "failed", method: null, code: "no_json" },
    { name: "html", raw: "<html></html>", outcome: "failed", method: null, code: "invalid_envelope" },
    {
      name: "schema",
      raw: textResponse(JSON.stringify({ ...conversation, turns: [] })),
      outcome: "failed",
      method: "direct",
      code: "schema_invalid",
    },
  ];
  for (const { name, raw, outcome, method, code } of cases) {
    const result = parseStoredResponse(raw);
    assert.equal(result.outcome, outcome, name);
    assert.equal(result.method, method, name);
    assert.equal(result.error?.code ?? null, code, name);
    assert.equal(result.parserVersion, PARSER_VERSION, name);
  }
});

Deno.test("parseStoredResponse() returns the conversation exactly and stamps stop_reason", () => {
  const result = parseStoredResponse(textResponse(pretty));
  assert.equal(result.outcome, "parsed");
  assert.deepEqual(result.conversation, conversation);
  assert.equal(result.stopReason, "end_turn");
  assert.equal(result.truncated, false);
});

Deno.test("parseStoredResponse() marks failures of truncated output as truncated", () => {
  const result = parseStoredResponse(textResponse("Let me start with", { stopReason: "max_tokens" }));
  assert.equal(result.outcome, "failed");
  assert.equal(result.truncated, true);
});

Deno.test("parseStoredResponse() never completes a document cut right after a brace inside a string", () => {
  const withBrace = makeConversation(22, { turns: 4 });
  withBrace.turns[3].content = "Fill in {amount} and {date} before you send it.";
  const text = render(withBrace, true).text;
  const cut = text.indexOf("{amount}") + "{amount}".length;
  for (const stopReason of ["end_turn", "max_tokens"]) {
    const result = parseStoredResponse(textResponse(text.slice(0, cut), { stopReason }));
    assert.notEqual(result.outcome, "parsed", stopReason);
  }
});

Deno.test("createParser() without the repair step behaves like an older parser", () => {
  const older = createParser({ version: "2025.11.0", steps: ["direct", "extract"] });
  const trailing = older(textResponse(trailingCommas(pretty)));
  assert.equal(trailing.parserVersion, "2025.11.0");
  assert.equal(trailing.outcome, "failed");
  assert.equal(trailing.error?.code, "invalid_json");
  assert.match(trailing.error?.message ?? "", /^Cannot parse JSON: trailing comma at position \d+$/);
  const cut = older(textResponse(pretty.slice(0, 900), { stopReason: "end_turn" }));
  assert.equal(cut.outcome, "failed");
  assert.equal(cut.truncated, true);
  assert.equal(
    parseStoredResponse(textResponse(trailingCommas(pretty))).outcome,
    "parsed",
    "the current parser",
  );
});

Deno.test("createParser() with only the direct step fails fenced output", () => {
  const directOnly = createParser({ steps: ["direct"] });
  const result = directOnly(textResponse(fenced(pretty)));
  assert.equal(result.outcome, "failed");
  assert.equal(result.error?.code, "invalid_json");
  assert.equal(result.parserVersion, PARSER_VERSION);
});

Deno.test("createParser() runs steps in chain order whatever order they are given in", () => {
  const reordered = createParser({ steps: ["repair", "extract", "direct"] });
  const raw = textResponse(fenced(trailingCommas(pretty)));
  assert.deepEqual(reordered(raw), parseStoredResponse(raw));
});

const corpus = (await readCorpus()).filter((entry): entry is CorpusCase => "expect" in entry);

Deno.test("parseStoredResponse() is deterministic", () => {
  for (const entry of corpus) {
    assert.deepEqual(parseStoredResponse(rawOf(entry)), parseStoredResponse(rawOf(entry)), entry.id);
  }
});

Deno.test("parseStoredResponse() error messages carry no model output and group into few patterns", () => {
  const patterns = new Set<string>();
  for (const entry of corpus) {
    const { error } = parseStoredResponse(rawOf(entry));
    if (error === null) continue;
    assert.match(error.message, /^Cannot [a-z ]+: [a-z0-9_ ,.'{}()\[\]:-]+$/i, entry.id);
    assert.doesNotMatch(error.message, /"/, entry.id);
    patterns.add(`${error.code}: ${errorPattern(error.message)}`);
  }
  assert.ok(patterns.size <= 40, `${patterns.size} patterns: ${[...patterns].join("\n")}`);
});

function checkInvariants(result: ParseResult, label: string): void {
  assert.ok(["parsed", "partial", "failed"].includes(result.outcome), label);
  assert.equal(result.parserVersion, PARSER_VERSION, label);
  if (result.outcome === "parsed") {
    assert.ok(ConversationSchema.safeParse(result.conversation).success, label);
    assert.equal(result.error, null, label);
    assert.equal(result.truncated, false, label);
  } else {
    assert.ok(result.error !== null, label);
  }
  if (result.outcome === "partial") assert.equal(result.truncated, true, label);
  assert.doesNotThrow(() => JSON.stringify(result), label);
}

Deno.test("parseStoredResponse() never throws on mutated responses (fuzz)", () => {
  const random = seededRandom(7);
  const sources = [
    pretty,
    fenced(trailingCommas(pretty)),
    unescapeQuotes(pretty),
    JSON.stringify(pretty),
    render(makeConversation(24, { turns: 6 }), false).text,
  ];
  const alphabet = [
    '"',
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\\",
    "\n",
    " ",
    "\u200b",
    "\ufeff",
    "`",
    "'",
    "a",
    "0",
    "👨‍👩‍👧",
  ];
  for (let i = 0; i < 1500; i++) {
    const chars = [...sources[i % sources.length]];
    const edits = 1 + Math.floor(random() * 6);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * chars.length);
      const kind = random();
      if (kind < 0.3) chars.splice(at, 1 + Math.floor(random() * 20));
      else if (kind < 0.6) chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)]);
      else if (kind < 0.9) chars[at] = alphabet[Math.floor(random() * alphabet.length)];
      else chars.length = at;
    }
    const stopReason = [null, "end_turn", "max_tokens", "refusal", "tool_use"][i % 5];
    const raw = textResponse(chars.join(""), { stopReason });
    checkInvariants(parseStoredResponse(raw), `case ${i}`);
  }
});

Deno.test("parseStoredResponse() never throws on arbitrary bytes and bodies (fuzz)", () => {
  const random = seededRandom(8);
  const body = new TextEncoder().encode(textResponse(pretty));
  for (let i = 0; i < 500; i++) {
    const bytes = body.slice(0, Math.floor(random() * body.length));
    for (let k = 0; k < 4; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    checkInvariants(parseStoredResponse(bytes), `bytes ${i}`);
  }
  const odd = [
    "",
    "null",
    '{"type":"message","content":[null, 1, "x", {"type":"text"}]}',
    '{"type":"message","content":[{"type":"tool_use","input":null}],"stop_reason":"tool_use"}',
    '{"type":"message","content":[{"type":"tool_use","input":[1]}],"stop_reason":"tool_use"}',
    textResponse('{"a": ' + "[".repeat(100_000) + "]".repeat(100_000) + "}"),
    textResponse('{"turns": ' + "[".repeat(100_000)),
    textResponse('{"__proto__": {"polluted": true}, "turns": []}'),
  ];
  for (const raw of odd) checkInvariants(parseStoredResponse(raw), raw.slice(0, 60));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseStoredResponse() fails valid JSON that repeats a property name instead of dropping a value", () => {
  // Unescaped quotes that happen to leave valid JSON: `"content": "I pasted ", "content": "none"` reads as two
  // contents, and JSON.parse would silently keep only "none".
  const source = structuredClone(conversation);
  for (const turn of source.turns) turn.content = turn.content.replaceAll('"', "");
  source.turns[0].content += ' I pasted ", "content": "none';
  const text = unescapeQuotes(render(source, true).text);
  const cases = [
    { raw: textResponse(text), message: "Cannot parse JSON: a property name repeats in one object" },
    { raw: textResponse(fenced(text)), message: "Cannot parse JSON: a property name repeats in one object" },
    // The same with damage elsewhere, so the repair step reads it: its reading repeats the name too.
    {
      raw: textResponse(trailingCommas(text)),
      message: "Cannot repair JSON: the repaired properties do not match the text",
    },
  ];
  for (const { raw, message } of cases) {
    const result = parseStoredResponse(raw);
    assert.equal(result.outcome, "failed");
    assert.deepEqual(result.error, { code: "invalid_json", message });
  }
});

Deno.test("parseStoredResponse() never returns altered content, however hostile the inner quoting (fuzz)", () => {
  // Content built from the pieces that make unescaped quotes dangerous: a quote before `,` `:` `}` `]`, prose that
  // imitates a member (`", "content": "`), brackets, literals. Once unescaped, many of these documents are ambiguous
  // or even valid JSON with a repeated name; they may fail or go partial, but a parsed one must be exactly right.
  // Parser 2026.11.1 parsed 139 of these 3000 documents, 10 of them with altered content; 2026.11.2 parses 553.
  const random = seededRandom(2026);
  const pieces = [
    '"',
    '",',
    '", ',
    '":',
    '"}',
    '"]',
    '{"',
    '["',
    ", ",
    ": ",
    "}",
    "]",
    "{",
    "word",
    " ",
    "\n",
  ];
  const members = [
    '", "role": "',
    '", "content": "',
    '", "speaker": "',
    '", "intensity": 0.5, "x": "',
    "true",
  ];
  const altered: number[] = [];
  let parsed = 0;
  for (let k = 0; k < 3000; k++) {
    const source = makeConversation(k % 40, { turns: 2 + 2 * (k % 3), sentences: 1 });
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      let text = "";
      for (let m = 1 + Math.floor(random() * 8); m > 0; m--) {
        text += random() < 0.15
          ? members[Math.floor(random() * members.length)]
          : pieces[Math.floor(random() * pieces.length)];
      }
      source.turns[Math.floor(random() * source.turns.length)].content += ` ${text}`;
    }
    const result = parseStoredResponse(textResponse(unescapeQuotes(render(source, k % 2 === 0).text)));
    if (result.outcome !== "parsed") continue;
    parsed++;
    if (!isDeepStrictEqual(result.conversation, source)) altered.push(k);
  }
  assert.deepEqual(altered, []);
  assert.ok(parsed > 300, `only ${parsed} documents parsed: the mix no longer exercises the repair`);
});
