/**
 * The three line formats of `deno task export` (docs/EXPORT.md), pure: one final file (plus its row) in, one
 * JSON object out. Object keys are built in a fixed order, so the same inputs give the same bytes.
 *
 *   messages  the Messages API shape: {"system", "messages": [{"role","content"}]}, user first, alternating,
 *             ending with the assistant
 *   openai    the OpenAI chat fine-tuning shape: {"messages": [{"role": "system"|"user"|"assistant","content"}]}
 *   record    the project's full record: the row's metadata and provenance beside the whole final file
 */
import { z } from "zod";
import type { ExportRow } from "./row.ts";

export const EXPORT_FORMATS = ["messages", "openai", "record"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const nullableString = z.string().nullable();

/** The final file as the parse flow writes it (shared/parse_flow/final_file.ts); extra keys are kept. */
export const finalFileSchema = z.looseObject({
  // Read loosely: a file fixed by hand in review may lack what the parser's schema demands (emotional_context);
  // the chat formats check what they need themselves (chatMessages).
  conversation_metadata: z.looseObject({
    client_persona: z.string(),
    session_context: z.string().optional(),
    conversation_phase: z.string().optional(),
    expected_outcome: z.string().optional(),
  }),
  turns: z.array(z.looseObject({ role: z.string(), content: z.string() })),
  input_parameters: z.looseObject({
    persona_id: nullableString,
    persona_key: nullableString,
    persona_name: nullableString,
    emotional_arc_id: nullableString,
    emotional_arc_key: nullableString,
    emotional_arc_name: nullableString,
    training_topic_id: nullableString,
    training_topic_key: nullableString,
    training_topic_name: nullableString,
  }).optional(),
  provenance: z.looseObject({ source: z.string(), model_output: z.boolean() }).optional(),
});
export type FinalDocument = z.infer<typeof finalFileSchema>;

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
}

/** Why a conversation cannot be written in a chat format (it is listed in the manifest's `skipped`). */
export type ShapeProblem = "not_alternating" | "empty_content";

/**
 * The turns as chat messages, checked: first user, roles alternating, last assistant, no empty content. The
 * parser's schema already guarantees this for every completed conversation; a file edited by hand may not.
 */
export function chatMessages(doc: FinalDocument): { ok: true; messages: ChatMessage[] } | {
  ok: false;
  problem: ShapeProblem;
} {
  const messages: ChatMessage[] = [];
  for (const [i, t] of doc.turns.entries()) {
    const role = i % 2 === 0 ? "user" : "assistant";
    if (t.role !== role) return { ok: false, problem: "not_alternating" };
    if (t.content.trim() === "") return { ok: false, problem: "empty_content" };
    messages.push({ role, content: t.content });
  }
  if (messages.length < 2 || messages[messages.length - 1].role !== "assistant") {
    return { ok: false, problem: "not_alternating" };
  }
  return { ok: true, messages };
}

/**
 * The system prompt of a training example: the scenario the advisor is in, from the conversation's metadata
 * (one labelled line per field, in a fixed order; empty fields left out).
 */
export function systemPrompt(doc: FinalDocument): string {
  const m = doc.conversation_metadata;
  const lines: [string, string][] = [
    ["Client", m.client_persona],
    ["Session context", m.session_context ?? ""],
    ["Conversation phase", m.conversation_phase ?? ""],
    ["Expected outcome", m.expected_outcome ?? ""],
  ];
  return lines.filter(([, v]) => v.trim() !== "").map(([k, v]) => `${k}: ${v}`).join("\n");
}

export type FormatResult = { ok: true; line: string } | { ok: false; problem: ShapeProblem };

/** One JSONL line (without the newline) for a conversation. */
export function formatLine(
  format: ExportFormat,
  row: ExportRow,
  doc: FinalDocument,
  finalSha256: string,
): FormatResult {
  if (format === "record") return { ok: true, line: JSON.stringify(fullRecord(row, doc, finalSha256)) };
  const chat = chatMessages(doc);
  if (!chat.ok) return chat;
  const system = systemPrompt(doc);
  if (format === "messages") return { ok: true, line: JSON.stringify({ system, messages: chat.messages }) };
  return {
    ok: true,
    line: JSON.stringify({ messages: [{ role: "system", content: system }, ...chat.messages] }),
  };
}

/** The project's own record: who, when, parsed how, from what, and the whole final file. */
export function fullRecord(row: ExportRow, doc: FinalDocument, finalSha256: string): Record<string, unknown> {
  return {
    conversation_id: row.conversation_id,
    user_id: row.user_id,
    created_at: row.created_at,
    status: row.processing_status,
    conversation_name: row.conversation_name,
    tier: row.tier,
    turn_count: row.turn_count,
    parse: { method: row.parse_method_used, parser_version: row.parser_version },
    generation: {
      model: row.model,
      stop_reason: row.stop_reason,
      input_tokens: row.input_tokens,
      output_tokens: row.output_tokens,
      truncated: row.truncated,
    },
    provenance: { source: row.source, model_output: row.source === "generated" },
    input_parameters: doc.input_parameters ?? null,
    hashes: { raw_sha256: row.raw_sha256, final_sha256: finalSha256 },
    file_path: row.file_path,
    conversation: doc,
  };
}
