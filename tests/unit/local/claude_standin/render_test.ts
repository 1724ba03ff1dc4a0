import assert from "node:assert/strict";
import { buildConversation, DEFAULT_SCAFFOLDING } from "../../../../local/claude_standin/conversation.ts";
import { type MessageReply, renderReply } from "../../../../local/claude_standin/render.ts";
import { ConversationSchema } from "../../../../shared/parse/schema.ts";

const conv = buildConversation(DEFAULT_SCAFFOLDING, 7);
const req = { maxTokens: 8192, hasOutputFormat: false, toolName: null, retryAfterSec: 1 };

function text(reply: ReturnType<typeof renderReply>): string {
  assert.equal(reply.kind, "message");
  const block = (reply as MessageReply).content[0];
  assert.equal(block?.type, "text");
  return block.type === "text" ? block.text : "";
}

Deno.test("renderReply() clean is the conversation as pretty JSON; structured output is compact", () => {
  assert.deepEqual(JSON.parse(text(renderReply("clean", conv, req, 1))), conv);
  const compact = text(renderReply("clean", conv, { ...req, hasOutputFormat: true }, 1));
  assert.equal(compact, JSON.stringify(conv));
});

Deno.test("renderReply() trailing_commas adds a comma before every closing bracket, and nothing else", () => {
  const t = text(renderReply("trailing_commas", conv, req, 1));
  assert.throws(() => JSON.parse(t));
  assert.deepEqual(JSON.parse(t.replace(/,(\s*[}\]])/g, "$1")), conv);
});

Deno.test("renderReply() unescaped_quotes leaves inner quotes raw (even when no turn had any)", () => {
  const quoteless = structuredClone(conv);
  for (const turn of quoteless.turns) turn.content = turn.content.replace(/"/g, "");
  const t = text(renderReply("unescaped_quotes", quoteless, req, 1));
  assert.throws(() => JSON.parse(t));
  assert.ok(!t.includes('\\"'));
  assert.match(t, /"don't panic"/);
});

Deno.test("renderReply() truncated cuts inside a string and reports max_tokens", () => {
  const reply = renderReply("truncated", conv, req, 1) as MessageReply;
  assert.equal(reply.stopReason, "max_tokens");
  assert.equal(reply.outputTokens, 8192);
  const t = text(reply);
  assert.ok(JSON.stringify(conv, null, 2).startsWith(t));
  assert.equal(
    (t.slice(t.lastIndexOf('"content": "')).match(/"/g) ?? []).length % 2,
    1,
    "ends inside a string",
  );
});

Deno.test("renderReply() truncated_content is valid JSON without the last assistant turn", () => {
  const doc = JSON.parse(text(renderReply("truncated_content", conv, req, 1)));
  assert.equal(doc.turns.length, conv.turns.length - 1);
  assert.equal(doc.turns.at(-1).role, "user");
  assert.ok(doc.turns.at(-1).content.endsWith('"'));
});

Deno.test("renderReply() caps any answer at max_tokens like the real API", () => {
  const reply = renderReply("fenced", conv, { ...req, maxTokens: 20 }, 1) as MessageReply;
  assert.equal(reply.stopReason, "max_tokens");
  assert.equal(text(reply).length, 80);
  const tool = renderReply("tool_use", conv, { ...req, toolName: "emit", maxTokens: 20 }, 1) as MessageReply;
  assert.equal(tool.stopReason, "max_tokens");
});

Deno.test("renderReply() tool_use puts the conversation in the named tool's input", () => {
  const reply = renderReply("tool_use", conv, { ...req, toolName: "emit_conversation" }, 1) as MessageReply;
  assert.equal(reply.stopReason, "tool_use");
  const block = reply.content[0];
  assert.equal(block.type, "tool_use");
  if (block.type === "tool_use") {
    assert.equal(block.name, "emit_conversation");
    assert.ok(ConversationSchema.safeParse(block.input).success);
  }
});

Deno.test("renderReply() errors carry the API's status and error type", () => {
  const cases: ReadonlyArray<[Parameters<typeof renderReply>[0], number, string]> = [
    ["rate_limited", 429, "rate_limit_error"],
    ["overloaded", 529, "overloaded_error"],
    ["server_error", 500, "api_error"],
    ["schema_rejected", 400, "invalid_request_error"],
  ];
  for (const [outcome, status, type] of cases) {
    const reply = renderReply(outcome, conv, { ...req, retryAfterSec: 3 }, 1);
    assert.equal(reply.kind, "error");
    if (reply.kind === "error") {
      assert.equal(reply.status, status);
      assert.equal(reply.errorType, type);
      if (outcome === "rate_limited") assert.equal(reply.headers["retry-after"], "3");
    }
  }
});
