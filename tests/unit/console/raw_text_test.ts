/** rawView(): what the item view shows of a stored response, and where it marks the break and the cut. */
import assert from "node:assert/strict";
import { rawView } from "../../../console/src/raw_text.ts";

const envelope = (text: string, stop: string) =>
  JSON.stringify({ type: "message", content: [{ type: "text", text }], stop_reason: stop });

Deno.test("rawView() pretty-prints the model's text when it parses", () => {
  const v = rawView(envelope('{"a":1}', "end_turn"), null, false);
  assert.equal(v.text, '{\n  "a": 1\n}');
  assert.equal(v.breakAt, null);
  assert.equal(v.truncated, false);
});

Deno.test("rawView() marks the position a parse error names, and a max_tokens cut", () => {
  const text = '{"turns": [{"role": "user", "content": "cut';
  const v = rawView(envelope(text, "max_tokens"), "Cannot parse JSON: unexpected end at position 30", false);
  assert.equal(v.text, text);
  assert.equal(v.breakAt, 30);
  assert.equal(v.truncated, true);
  assert.equal(v.stopReason, "max_tokens");
});

Deno.test("rawView() shows a tool call's input, and bytes that are no envelope as they are", () => {
  const tool = JSON.stringify({
    content: [{ type: "tool_use", input: { turns: [] } }],
    stop_reason: "tool_use",
  });
  assert.equal(rawView(tool, null, false).text, '{\n  "turns": []\n}');
  const v = rawView("not json at all", "invalid_json: at position 99", true);
  assert.equal(v.text, "not json at all");
  assert.equal(v.breakAt, 15, "clamped to the text");
  assert.equal(v.truncated, true, "the row's flag counts");
});
