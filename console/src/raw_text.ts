/**
 * What the item view shows of a stored raw response: the model's text (text blocks joined, or a tool call's
 * input), pretty-printed when it is valid JSON, and where it broke: the position a parse error names, and the
 * end of the text when the response was cut (`stop_reason: max_tokens`, or the row's truncated flag).
 */

export interface RawView {
  /** The text to show (pretty-printed JSON when the model's text parses; else as stored). */
  text: string;
  stopReason: string | null;
  /** Offset in `text` where the parser stopped reading (from "at position N"); null when unknown. */
  breakAt: number | null;
  truncated: boolean;
}

/** Reads a Messages API response body; falls back to the raw bytes as text when it is not one. */
export function rawView(raw: string, parseError: string | null, truncatedFlag: boolean): RawView {
  let text = raw;
  let stopReason: string | null = null;
  try {
    const env = JSON.parse(raw) as {
      content?: Array<{ type: string; text?: string; input?: unknown }>;
      stop_reason?: string;
    };
    stopReason = typeof env.stop_reason === "string" ? env.stop_reason : null;
    const blocks = Array.isArray(env.content) ? env.content : [];
    const texts = blocks.filter((b) => b.type === "text" && typeof b.text === "string").map((b) => b.text!);
    const tool = blocks.find((b) => b.type === "tool_use");
    text = texts.length > 0 ? texts.join("") : tool ? JSON.stringify(tool.input, null, 2) : raw;
  } catch {
    // Not an envelope: show what is stored.
  }
  let breakAt: number | null = null;
  try {
    text = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    const m = parseError ? /position (\d+)/.exec(parseError) : null;
    if (m) breakAt = Math.min(Number(m[1]), text.length);
  }
  return { text, stopReason, breakAt, truncated: truncatedFlag || stopReason === "max_tokens" };
}
