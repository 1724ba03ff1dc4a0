import assert from "node:assert/strict";
import { chatMessages, finalFileSchema, formatLine, systemPrompt } from "../../../shared/export/format.ts";
import type { ExportRow } from "../../../shared/export/row.ts";
import { completedRow } from "./_fixtures.ts";

const doc = finalFileSchema.parse({
  conversation_metadata: {
    client_persona: "David Chen - The Pragmatic Optimist",
    session_context: "Saving for college",
    conversation_phase: "initial",
  },
  turns: [
    {
      turn_number: 1,
      role: "user",
      content: "Hi",
      emotional_context: { primary_emotion: "worry", intensity: 0.4 },
    },
    { turn_number: 2, role: "assistant", content: "Hello" },
  ],
});

const row: ExportRow = { ...completedRow, conversation_name: "David Chen - The Pragmatic Optimist" };

Deno.test("messages format: system from the metadata, alternating messages ending with the assistant", () => {
  const r = formatLine("messages", row, doc, "f");
  assert.ok(r.ok);
  assert.equal(
    r.line,
    JSON.stringify({
      system: "Client: David Chen - The Pragmatic Optimist\nSession context: Saving for college\n" +
        "Conversation phase: initial",
      messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }],
    }),
  );
});

Deno.test("openai format: a system message first, then the turns; only role and content", () => {
  const r = formatLine("openai", row, doc, "f");
  assert.ok(r.ok);
  const v = JSON.parse(r.line);
  assert.deepEqual(Object.keys(v), ["messages"]);
  assert.deepEqual(v.messages.map((m: { role: string }) => m.role), ["system", "user", "assistant"]);
  assert.equal(v.messages[0].content, systemPrompt(doc));
});

Deno.test("record format keeps the whole final file and the row's provenance and hashes", () => {
  const r = formatLine("record", { ...row, source: "uploaded" }, doc, "ff");
  assert.ok(r.ok);
  const v = JSON.parse(r.line);
  assert.deepEqual(v.conversation, doc);
  assert.deepEqual(v.provenance, { source: "uploaded", model_output: false });
  assert.deepEqual(v.hashes, { raw_sha256: "ab", final_sha256: "ff" });
});

Deno.test("chat formats refuse a file that does not alternate or ends with the user, or has empty content", () => {
  const bad = (turns: { role: string; content: string }[]) => chatMessages({ ...doc, turns });
  assert.deepEqual(bad([{ role: "assistant", content: "x" }, { role: "user", content: "y" }]), {
    ok: false,
    problem: "not_alternating",
  });
  assert.deepEqual(bad([{ role: "user", content: "x" }]), { ok: false, problem: "not_alternating" });
  assert.deepEqual(bad([{ role: "user", content: " " }, { role: "assistant", content: "y" }]), {
    ok: false,
    problem: "empty_content",
  });
  const r = formatLine("openai", row, { ...doc, turns: [{ role: "user", content: "x" }] }, "f");
  assert.deepEqual(r, { ok: false, problem: "not_alternating" });
});
