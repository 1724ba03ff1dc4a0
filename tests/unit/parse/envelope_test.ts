import assert from "node:assert/strict";
import { readEnvelope } from "../../../shared/parse/envelope.ts";
import { messageBody, textResponse, toolUseResponse } from "../../fixtures/parse/samples.ts";

Deno.test("readEnvelope() reads text, stop_reason, model, id and usage", () => {
  const result = readEnvelope(
    textResponse("hello", { stopReason: "max_tokens", model: "claude-x", id: "msg_1" }),
  );
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "text", text: "hello" });
  assert.equal(result.envelope.stopReason, "max_tokens");
  assert.equal(result.envelope.model, "claude-x");
  assert.equal(result.envelope.id, "msg_1");
  assert.equal(result.envelope.usage?.inputTokens, 1873);
  assert.deepEqual(result.fixes, []);
});

Deno.test("readEnvelope() joins text blocks with nothing in between", () => {
  const result = readEnvelope(textResponse(['{"a": "spl', 'it"}']));
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "text", text: '{"a": "split"}' });
  assert.deepEqual(result.fixes, [{ step: "envelope", code: "join_text_blocks", detail: "2 blocks" }]);
});

Deno.test("readEnvelope() skips thinking blocks", () => {
  const body = messageBody([
    { type: "thinking", thinking: "{not output}", signature: "s" },
    { type: "redacted_thinking", data: "xyz" },
    { type: "text", text: "out" },
  ]);
  const result = readEnvelope(body);
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "text", text: "out" });
});

Deno.test("readEnvelope() prefers a tool_use block's input over text", () => {
  const input = { turns: [] };
  const body = messageBody([{ type: "text", text: "Recording it." }, {
    type: "tool_use",
    id: "t",
    name: "record",
    input,
  }]);
  const result = readEnvelope(body);
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "tool_use", input });
  assert.deepEqual(result.fixes, [{ step: "envelope", code: "use_tool_input" }]);
});

Deno.test("readEnvelope() passes tool input given as a string on as text", () => {
  const result = readEnvelope(toolUseResponse('{"turns": []}'));
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "text", text: '{"turns": []}' });
});

Deno.test("readEnvelope() decodes UTF-8 bytes and records a byte order mark it removes", () => {
  const bytes = new TextEncoder().encode("\ufeff" + textResponse("Zoë 👩🏽‍💻"));
  const result = readEnvelope(bytes);
  assert.ok(result.ok);
  assert.deepEqual(result.envelope.content, { kind: "text", text: "Zoë 👩🏽‍💻" });
  assert.deepEqual(result.fixes, [{ step: "envelope", code: "strip_bom" }]);
});

Deno.test("readEnvelope() reports a missing stop_reason as null", () => {
  const result = readEnvelope(textResponse("x", { stopReason: null }));
  assert.ok(result.ok);
  assert.equal(result.envelope.stopReason, null);
});

Deno.test("readEnvelope() rejects bodies that are not a Messages API response", () => {
  const html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
  const cases: { name: string; raw: string | Uint8Array; message: string }[] = [
    { name: "HTML page", raw: html, message: "Cannot read response: the body is not JSON" },
    { name: "empty body", raw: "", message: "Cannot read response: the body is not JSON" },
    {
      name: "API error",
      raw: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      message: "Cannot read response: the body is an API error",
    },
    { name: "array", raw: "[]", message: "Cannot read response: the body is not a Messages API response" },
    {
      name: "bare conversation",
      raw: '{"conversation_metadata": {}, "turns": []}',
      message: "Cannot read response: the body is not a Messages API response",
    },
    {
      name: "content not an array",
      raw: '{"type":"message","content":"text"}',
      message: "Cannot read response: the body is not a Messages API response",
    },
    {
      name: "user message",
      raw: '{"type":"message","role":"user","content":[]}',
      message: "Cannot read response: the message role is not assistant",
    },
    {
      name: "Latin-1 byte",
      raw: new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d]),
      message: "Cannot read response: the body is not valid UTF-8",
    },
  ];
  for (const { name, raw, message } of cases) {
    const result = readEnvelope(raw);
    assert.ok(!result.ok, name);
    assert.deepEqual(result.error, { code: "invalid_envelope", message }, name);
  }
});
