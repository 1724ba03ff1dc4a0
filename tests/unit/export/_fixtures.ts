import type { ExportRow } from "../../../shared/export/row.ts";
import type { DownloadAnswer, ExportSource } from "../../../shared/export/pages.ts";

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

/** Row `i` of a fake selection: ids and created_at in order, methods alternating, two personas. */
export function rowAt(i: number): ExportRow {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
  return {
    ...completedRow,
    conversation_id: id,
    created_at: `2026-01-01T00:${String(Math.floor(i / 60)).padStart(2, "0")}:${
      String(i % 60).padStart(2, "0")
    }.000000Z`,
    file_path: `u/${id}/conversation.json`,
    parse_method_used: i % 2 === 0 ? "direct" : "jsonrepair",
    persona_key: i % 3 === 0 ? "p1" : "p2",
  };
}

/** The final file of row `i`: a valid two-turn chat. */
export function finalBytes(i: number): Uint8Array {
  const doc = {
    conversation_metadata: { client_persona: `P${i}`, session_context: "s", conversation_phase: "x" },
    turns: [{ role: "user", content: `q${i}` }, { role: "assistant", content: `a${i}` }],
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

export interface FakeSourceOptions {
  /** Rows whose final file is gone. */
  missing?: Set<number>;
  /** The n-th rows() call (1-based) rejects. */
  dbFailAt?: number;
  /** Rows whose download answers unavailable (every try). */
  unavailable?: Set<number>;
  /** Offer downloadMany (bulk), as the Storage adapter does. */
  bulk?: boolean;
}

/** An in-memory ExportSource of `n` rows; `calls` records every call in order. */
export function fakeExportSource(n: number, opts: FakeSourceOptions = {}) {
  const rows = Array.from({ length: n }, (_, i) => rowAt(i));
  const calls: string[] = [];
  let rowCalls = 0;
  const answer = (path: string): DownloadAnswer => {
    const i = rows.findIndex((r) => r.file_path === path);
    if (i < 0 || opts.missing?.has(i)) return { ok: false, kind: "not_found" };
    if (opts.unavailable?.has(i)) return { ok: false, kind: "unavailable", message: "storage down" };
    return { ok: true, bytes: finalBytes(i) };
  };
  const src: ExportSource = {
    rows(_f, after, limit) {
      rowCalls++;
      calls.push(`rows ${after === null ? "start" : after.conversation_id.slice(-3)}`);
      if (rowCalls === opts.dbFailAt) return Promise.reject(new Error("connection reset"));
      const start = after === null
        ? 0
        : rows.findIndex((r) => r.conversation_id === after.conversation_id) + 1;
      return Promise.resolve(rows.slice(start, start + limit));
    },
    count: () => Promise.resolve(n),
    download(_b, path) {
      calls.push(`download ${path.slice(-22, -18)}`);
      return Promise.resolve(answer(path));
    },
  };
  if (opts.bulk) {
    src.downloadMany = (_b, paths) => {
      calls.push(`downloadMany ${paths.length}`);
      return Promise.resolve(paths.map(answer));
    };
  }
  return { src, calls, rows };
}
