import type { ExportRow } from "../../../shared/export/row.ts";

/** A completed, generated conversation's export row, every column set: the base the export tests vary. */
export const completedRow: ExportRow = {
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
