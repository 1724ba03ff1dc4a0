/**
 * mod.ts is the parse engine's public API: what it exports must be the very functions and values of the
 * step files (a copy or a wrapper would let the API and the tested code drift apart), and it never exposes a
 * private `_` helper.
 */
import assert from "node:assert/strict";
import * as mod from "../../../shared/parse/mod.ts";
import * as chain from "../../../shared/parse/chain.ts";
import * as envelope from "../../../shared/parse/envelope.ts";
import * as escapeInnerQuotes from "../../../shared/parse/escape_inner_quotes.ts";
import * as extract from "../../../shared/parse/extract.ts";
import * as repair from "../../../shared/parse/repair.ts";
import * as result from "../../../shared/parse/result.ts";
import * as schema from "../../../shared/parse/schema.ts";
import * as truncation from "../../../shared/parse/truncation.ts";
import * as validate from "../../../shared/parse/validate.ts";

const SOURCES: Record<string, Record<string, unknown>> = {
  chain,
  envelope,
  escapeInnerQuotes,
  extract,
  repair,
  result,
  schema,
  truncation,
  validate,
};

Deno.test("mod.ts re-exports each value as the same binding as its step file", () => {
  for (const [name, value] of Object.entries(mod)) {
    const homes = Object.entries(SOURCES).filter(([, m]) => name in m).map(([k]) => k);
    assert.equal(homes.length, 1, `${name} is exported by ${homes.length} step files`);
    assert.equal(value, SOURCES[homes[0]][name], `${name} differs from ${homes[0]}.${name}`);
  }
});

Deno.test("mod.ts exports the entry points docs/PARSING.md names", () => {
  for (const name of ["parseStoredResponse", "createParser", "PARSER_VERSION", "PARSE_ERROR_CODES"]) {
    assert.ok(name in mod, name);
  }
});

Deno.test("mod.ts does not re-export private helpers", async () => {
  const source = await Deno.readTextFile(new URL("../../../shared/parse/mod.ts", import.meta.url));
  assert.doesNotMatch(source, /from "\.\/_/);
});

Deno.test("parseStoredResponse() from mod.ts answers a result, never throws, for bytes that are not UTF-8", () => {
  const result = mod.parseStoredResponse(new Uint8Array([0xff, 0xfe, 0x00, 0x7b]));
  assert.equal(result.outcome, "failed");
  assert.ok(result.error !== null && result.error.code === "invalid_envelope", result.error?.code);
});
