import assert from "node:assert/strict";
import { errorPattern, PARSE_ERROR_CODES, type TruncationCode } from "../../../shared/parse/result.ts";

Deno.test("errorPattern() folds positions and indexes so messages group", () => {
  const messages = [
    "Cannot parse JSON: unterminated string at position 8517",
    "Cannot parse JSON: unterminated string at position 8471",
  ];
  assert.deepEqual(
    new Set(messages.map(errorPattern)),
    new Set(["Cannot parse JSON: unterminated string at position N"]),
  );
  assert.equal(
    errorPattern("Cannot validate conversation: turns[12].emotional_context.intensity must be at most 1"),
    "Cannot validate conversation: turns[N].emotional_context.intensity must be at most N",
  );
});

Deno.test("PARSE_ERROR_CODES lists every truncation code", () => {
  const truncation: TruncationCode[] = [
    "truncated_output",
    "truncated_json",
    "truncated_turn",
    "truncated_content",
    "missing_final_turn",
  ];
  for (const code of truncation) assert.ok(code in PARSE_ERROR_CODES, code);
});
