import assert from "node:assert/strict";
import { chatMessages, finalFileSchema, formatLine, systemPrompt } from "../../../shared/export/format.ts";
import {
  parseSplit,
  splitByCuts,
  splitHash,
  splitOf,
  SplitSpecError,
  stratumCuts,
} from "../../../shared/export/split.ts";
import { countExported, countSkipped, emptyCounts, sortedCounts } from "../../../shared/export/manifest.ts";
import { csvList } from "../../../shared/export/filter.ts";
import type { ExportRow } from "../../../shared/export/row.ts";

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

const row: ExportRow = {
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
  conversation_name: "David Chen - The Pragmatic Optimist",
  stop_reason: "end_turn",
  input_tokens: 1,
  output_tokens: 2,
  truncated: false,
};

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

Deno.test("parseSplit reads name=ratio lists and refuses bad ones", () => {
  assert.deepEqual(parseSplit("train=0.9,eval=0.1"), [{ name: "train", ratio: 0.9 }, {
    name: "eval",
    ratio: 0.1,
  }]);
  for (const bad of ["train=0.9", "train=0.5,train=0.5", "train", "train=0,eval=1", "Train=1"]) {
    assert.throws(() => parseSplit(bad), SplitSpecError, bad);
  }
});

Deno.test("the split of a conversation depends only on the seed and its id; ratios hold roughly", () => {
  const parts = parseSplit("train=0.9,eval=0.1");
  const ids = Array.from(
    { length: 5000 },
    (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
  );
  const a = ids.map((id) => splitOf(parts, splitHash(1, id)));
  assert.deepEqual(ids.map((id) => splitOf(parts, splitHash(1, id))), a);
  const evalShare = a.filter((s) => s === "eval").length / ids.length;
  assert.ok(evalShare > 0.08 && evalShare < 0.12, String(evalShare));
  const b = ids.map((id) => splitOf(parts, splitHash(2, id)));
  assert.notDeepEqual(a, b, "another seed, another split");
  for (const h of [splitHash(0, "x"), splitHash(99, "y")]) assert.ok(h >= 0 && h < 1);
});

Deno.test("stratified cuts give each stratum exact shares (largest remainder), members by hash", () => {
  const parts = parseSplit("train=0.9,eval=0.1");
  const hashes = Array.from({ length: 10 }, (_, i) => splitHash(3, `id${i}`));
  const cuts = stratumCuts(parts, hashes);
  const got = hashes.map((h) => splitByCuts(parts, cuts, h));
  assert.equal(got.filter((s) => s === "train").length, 9);
  assert.equal(got.filter((s) => s === "eval").length, 1);
  // 3 members at 0.5/0.5: 2 and 1, never 3 and 0.
  const three = parseSplit("a=0.5,b=0.5");
  const h3 = [0.1, 0.5, 0.9];
  const c3 = stratumCuts(three, h3);
  assert.deepEqual(h3.map((h) => splitByCuts(three, c3, h)), ["a", "a", "b"]);
});

Deno.test("counts are sorted by key whatever the order rows came in; csv lists are sorted and unique", () => {
  const c = emptyCounts();
  countExported(c, { ...row, parse_method_used: "manual" }, null);
  countExported(c, row, null);
  countSkipped(c, "final_file_missing");
  const s = sortedCounts(c);
  assert.deepEqual(Object.keys(s.by_method), ["direct", "manual"]);
  assert.equal(s.conversations, 2);
  assert.deepEqual(s.skipped_by_reason, { final_file_missing: 1 });
  assert.deepEqual(csvList("b, a,b,,c"), ["a", "b", "c"]);
});
