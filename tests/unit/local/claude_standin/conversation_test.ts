import assert from "node:assert/strict";
import {
  buildConversation,
  DEFAULT_SCAFFOLDING,
  scaffoldingFromPrompt,
} from "../../../../local/claude_standin/conversation.ts";
import { ConversationSchema } from "../../../../shared/parse/schema.ts";

Deno.test("scaffoldingFromPrompt() reads persona, archetype, arc, topic, phase and turn count", () => {
  const s = scaffoldingFromPrompt([
    "## Client",
    "- Persona: Marisol Vega - Skeptical Saver",
    "- Emotional arc: frustration -> trust",
    "Training topic: Roth conversions",
    "Conversation phase: follow up",
    "Write 8 turns.",
  ].join("\n"));
  assert.deepEqual(s, {
    personaName: "Marisol Vega",
    archetype: "Skeptical Saver",
    startEmotion: "frustration",
    endEmotion: "trust",
    topic: "Roth conversions",
    phase: "follow_up",
    turnCount: 8,
  });
});

Deno.test("scaffoldingFromPrompt() falls back to defaults and keeps turn counts even and bounded", () => {
  assert.deepEqual(scaffoldingFromPrompt("no scaffolding here"), DEFAULT_SCAFFOLDING);
  assert.equal(scaffoldingFromPrompt("Turns: 5").turnCount, 6);
  assert.equal(scaffoldingFromPrompt("Turns: 99").turnCount, 24);
  assert.equal(scaffoldingFromPrompt('Persona: Eve "The Hacker" \\ Quote').personaName.includes('"'), false);
});

Deno.test("buildConversation() is schema-valid and deterministic for every seed and length", () => {
  for (let seed = 0; seed < 50; seed++) {
    for (const turnCount of [2, 4, 10]) {
      const conv = buildConversation({ ...DEFAULT_SCAFFOLDING, turnCount }, seed);
      const parsed = ConversationSchema.safeParse(conv);
      assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
      assert.deepEqual(buildConversation({ ...DEFAULT_SCAFFOLDING, turnCount }, seed), conv);
    }
  }
});
