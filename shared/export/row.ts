/** One `public.conversations` row as the export reads it (shared/adapters/postgres_export_rows.ts selects it). */
import { z } from "zod";

export const exportRowSchema = z.object({
  conversation_id: z.string(),
  user_id: z.string(),
  /** UTC, microseconds: `2026-12-02T10:00:00.123456Z` (the keyset cursor compares it exactly). */
  created_at: z.string(),
  processing_status: z.string(),
  file_path: z.string().nullable(),
  storage_bucket: z.string().nullable(),
  parse_method_used: z.string().nullable(),
  parser_version: z.string().nullable(),
  source: z.string(),
  model: z.string().nullable(),
  raw_sha256: z.string().nullable(),
  persona_key: z.string().nullable(),
  emotional_arc_key: z.string().nullable(),
  topic_key: z.string().nullable(),
  tier: z.string().nullable(),
  turn_count: z.number().nullable(),
  conversation_name: z.string().nullable(),
  stop_reason: z.string().nullable(),
  input_tokens: z.number().nullable(),
  output_tokens: z.number().nullable(),
  truncated: z.boolean(),
});
export type ExportRow = z.infer<typeof exportRowSchema>;

/** The keyset position after a row: rows come in (created_at, conversation_id) order. */
export interface Cursor {
  created_at: string;
  conversation_id: string;
}
