import assert from "node:assert/strict";
import {
  detectTruncation,
  hasDanglingEscape,
  salvageConversation,
  stopReasonTruncates,
} from "../../../shared/parse/truncation.ts";
import { makeConversation, withDanglingEscape } from "../../fixtures/parse/samples.ts";

const conversation = makeConversation(5, { turns: 6 });

Deno.test("stopReasonTruncates() trusts only reasons of a finished turn", () => {
  const cases: [string | null, boolean][] = [
    ["end_turn", false],
    ["stop_sequence", false],
    ["tool_use", false],
    ["refusal", false],
    ["max_tokens", true],
    ["model_context_window_exceeded", true],
    ["pause_turn", true],
    ["some_future_reason", true],
    [null, true],
  ];
  for (const [reason, truncates] of cases) {
    assert.equal(stopReasonTruncates(reason), truncates, String(reason));
  }
});

Deno.test("hasDanglingEscape() spots content cut while writing an escaped quote", () => {
  const cases: [string, boolean][] = [
    ["the fear of making the \\", true],
    ['the fear of making the \\"', true],
    ["isn't \\ ", true],
    ['She said "yes"', false],
    ["A path C:\\Users is fine mid-text", false],
    ["", false],
  ];
  for (const [content, dangling] of cases) assert.equal(hasDanglingEscape(content), dangling, content);
});

Deno.test("detectTruncation() reports the outermost signal first", () => {
  const dangling = withDanglingEscape(conversation, 3);
  const userLast = { ...conversation, turns: conversation.turns.slice(0, 5) };
  const cases: {
    name: string;
    stopReason: string | null;
    unclosed: boolean;
    value: unknown;
    code: string | null;
  }[] = [
    { name: "complete", stopReason: "end_turn", unclosed: false, value: conversation, code: null },
    {
      name: "max_tokens",
      stopReason: "max_tokens",
      unclosed: true,
      value: dangling,
      code: "truncated_output",
    },
    {
      name: "no stop reason",
      stopReason: null,
      unclosed: false,
      value: conversation,
      code: "truncated_output",
    },
    { name: "unclosed", stopReason: "end_turn", unclosed: true, value: dangling, code: "truncated_json" },
    { name: "dangling", stopReason: "end_turn", unclosed: false, value: dangling, code: "truncated_turn" },
    {
      name: "user last",
      stopReason: "end_turn",
      unclosed: false,
      value: userLast,
      code: "missing_final_turn",
    },
    {
      name: "user last with roles out of order",
      stopReason: "end_turn",
      unclosed: false,
      value: {
        ...conversation,
        turns: [{ ...conversation.turns[0], role: "assistant" }, { ...conversation.turns[1], role: "user" }],
      },
      code: null,
    },
    { name: "not an object", stopReason: "end_turn", unclosed: false, value: "text", code: null },
  ];
  for (const { name, stopReason, unclosed, value, code } of cases) {
    assert.equal(detectTruncation({ stopReason, unclosed, value })?.code ?? null, code, name);
  }
});

Deno.test("detectTruncation() messages name the signal without model text", () => {
  const messages = [
    detectTruncation({ stopReason: "max_tokens", unclosed: false, value: null })?.message,
    detectTruncation({ stopReason: 'max"tokens <b>', unclosed: false, value: null })?.message,
    detectTruncation({ stopReason: null, unclosed: false, value: null })?.message,
    detectTruncation({ stopReason: "end_turn", unclosed: false, value: withDanglingEscape(conversation, 1) })
      ?.message,
  ];
  assert.deepEqual(messages, [
    "Cannot accept conversation: output stopped at max_tokens",
    "Cannot accept conversation: output stopped for an unknown reason",
    "Cannot accept conversation: the response has no stop_reason",
    "Cannot accept conversation: turns[1].content ends in a dangling escaped quote",
  ]);
});

Deno.test("salvageConversation() keeps the valid run of turns from turn 1, exactly as written", () => {
  const cases: { name: string; value: unknown; turns: number | null; metadata: boolean }[] = [
    { name: "everything valid", value: conversation, turns: 6, metadata: true },
    { name: "cut at turn 4", value: withDanglingEscape(conversation, 3), turns: 3, metadata: true },
    {
      name: "invalid turn 3",
      value: { ...conversation, turns: conversation.turns.map((t, i) => (i === 2 ? { ...t, extra: 1 } : t)) },
      turns: 2,
      metadata: true,
    },
    {
      name: "gap in numbering",
      value: { ...conversation, turns: [conversation.turns[0], conversation.turns[2]] },
      turns: 1,
      metadata: true,
    },
    {
      name: "invalid metadata",
      value: { ...conversation, conversation_metadata: { client_persona: 1 } },
      turns: 6,
      metadata: false,
    },
    { name: "nothing usable", value: { turns: "x" }, turns: null, metadata: false },
    { name: "not an object", value: [conversation], turns: null, metadata: false },
  ];
  for (const { name, value, turns, metadata } of cases) {
    const { conversation: salvaged } = salvageConversation(value);
    assert.equal(salvaged?.turns.length ?? null, turns, name);
    assert.equal(salvaged?.conversation_metadata != null, metadata, name);
    salvaged?.turns.forEach((turn, index) => assert.deepEqual(turn, conversation.turns[index], name));
  }
});

Deno.test("salvageConversation() records how many turns it left out", () => {
  const { fixes } = salvageConversation(withDanglingEscape(conversation, 1));
  assert.deepEqual(fixes, [{ step: "truncation", code: "drop_turns", detail: "kept 1 of 6 turns" }]);
});
