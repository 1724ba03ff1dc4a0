import assert from "node:assert/strict";
import { exportRowSchema } from "../../../shared/export/row.ts";
import { completedRow } from "./_fixtures.ts";

const row = completedRow;

Deno.test("exportRowSchema keeps the created_at text as is (the keyset cursor compares microseconds)", () => {
  const parsed = exportRowSchema.parse(row);
  assert.equal(parsed.created_at, "2026-01-01T00:00:00.000000Z");
  assert.deepEqual(parsed, row);
});

Deno.test("exportRowSchema accepts null for what an uploaded or older row may lack", () => {
  const nullable = [
    "file_path",
    "storage_bucket",
    "parse_method_used",
    "parser_version",
    "model",
    "raw_sha256",
    "persona_key",
    "emotional_arc_key",
    "topic_key",
    "tier",
    "turn_count",
    "conversation_name",
    "stop_reason",
    "input_tokens",
    "output_tokens",
  ];
  for (const key of nullable) assert.ok(exportRowSchema.safeParse({ ...row, [key]: null }).success, key);
});

Deno.test("exportRowSchema refuses a row without source or truncated (never guessed)", () => {
  for (const key of ["source", "truncated", "conversation_id", "created_at"]) {
    const { [key]: _, ...rest } = row as Record<string, unknown>;
    assert.equal(exportRowSchema.safeParse(rest).success, false, key);
    assert.equal(exportRowSchema.safeParse({ ...row, [key]: null }).success, false, `${key}: null`);
  }
});
