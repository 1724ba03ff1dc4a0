import assert from "node:assert/strict";
import { MessageAssembler, type StreamEvent } from "../../../shared/generate/message_assembler.ts";

const start: StreamEvent = {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 120, output_tokens: 1 },
  },
};

function textEvents(parts: string[]): StreamEvent[] {
  return [
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
    ...parts.map((text) => ({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })),
    { type: "content_block_stop", index: 0 },
  ];
}

const end: StreamEvent[] = [
  {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 42 },
  },
  { type: "message_stop" },
];

function assemble(events: StreamEvent[]): MessageAssembler {
  const a = new MessageAssembler();
  for (const e of events) a.apply(e);
  return a;
}

Deno.test("MessageAssembler rebuilds the final Message like the SDK's finalMessage()", () => {
  const a = assemble([start, ...textEvents(['{"a":', '"b"}']), ...end]);
  assert.equal(a.complete, true);
  assert.deepEqual(a.message(), {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5",
    content: [{ type: "text", text: '{"a":"b"}' }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 120, output_tokens: 42 },
  });
});

Deno.test("MessageAssembler keeps what arrived when the stream breaks, with stop_reason null", () => {
  const a = assemble([start, ...textEvents(['{"turns":[{"content":"I feel']).slice(0, 2)]);
  assert.equal(a.complete, false);
  assert.equal(a.contentBegan, true);
  const m = a.message();
  assert.equal(m.stop_reason, null);
  assert.deepEqual(m.content, [{ type: "text", text: '{"turns":[{"content":"I feel' }]);
});

Deno.test("MessageAssembler reports no content when only message_start arrived", () => {
  const a = assemble([start, {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  }]);
  assert.equal(a.started, true);
  assert.equal(a.contentBegan, false);
});

Deno.test("MessageAssembler parses a finished tool_use block's input", () => {
  const a = assemble([
    start,
    {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "t1", name: "x", input: {} },
    },
    { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: '{"turns":' } },
    { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "[]}" } },
    { type: "content_block_stop", index: 0 },
    ...end,
  ]);
  assert.deepEqual((a.message().content as unknown[])[0], {
    type: "tool_use",
    id: "t1",
    name: "x",
    input: { turns: [] },
  });
});

Deno.test("MessageAssembler keeps a cut tool_use input as the received text, never closing it", () => {
  const a = assemble([
    start,
    {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "t1", name: "x", input: {} },
    },
    {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: '{"turns":[{"con' },
    },
  ]);
  const block = (a.message().content as Array<Record<string, unknown>>)[0];
  assert.equal(block.input, '{"turns":[{"con');
});

Deno.test("MessageAssembler joins several text blocks in order and keeps thinking blocks", () => {
  const a = assemble([
    start,
    { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } },
    { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } },
    { type: "content_block_stop", index: 0 },
    { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "{}" } },
    { type: "content_block_stop", index: 1 },
    ...end,
  ]);
  assert.deepEqual(a.message().content, [
    { type: "thinking", thinking: "hmm", signature: "sig" },
    { type: "text", text: "{}" },
  ]);
});

Deno.test("MessageAssembler does not count thinking as content (a cut during thinking delivered no answer)", () => {
  const a = assemble([
    start,
    { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
    { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "hmm" } },
    { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig" } },
    { type: "content_block_stop", index: 0 },
  ]);
  assert.equal(a.contentBegan, false);
  const b = assemble([
    start,
    { type: "content_block_start", index: 0, content_block: { type: "redacted_thinking", data: "x" } },
    { type: "content_block_stop", index: 0 },
    { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
    { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "{" } },
  ]);
  assert.equal(b.contentBegan, true, "the first text delta is");
});
