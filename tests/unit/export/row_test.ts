import assert from "node:assert/strict";
import { exportRowSchema } from "../../../shared/export/row.ts";

const row = {
  conversation_id: "00000000-0000-4000-8000-000000000001",
  user_id: "00000000-0000-4000-8000-0000000000aa",
  created_at: "2026-01-01T00:00:00.000000Z",
  processing_status: "completed",
  file_path: "u/c/conversation.json",
  storage_bucket: "conversation-files",
  parse_method_used: "direct",
  parser_version: "2026.12.1",
  source: "generated",
  model: "m",
  raw_sha256: "ab",
  persona_key: "p",
  emotional_arc_key: "a",
  topic_key: "t",
  tier: "template",
  turn_count: 2,
  conversation_name: "n",
  stop_reason: "end_turn",
  input_tokens: 1,
  output_tokens: 2,
  truncated: false,
};

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
