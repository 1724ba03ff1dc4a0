import assert from "node:assert/strict";
import {
  buildPrompt,
  EmotionalArcRowSchema,
  PersonaRowSchema,
  PromptTemplateRowSchema,
  resolveTemplate,
  type Scaffolding,
  scaffoldingSnapshot,
  SYSTEM_PROMPT,
  templateVariables,
  TrainingTopicRowSchema,
} from "../../../shared/generate/prompt.ts";
import { conversationJsonSchema } from "../../../shared/parse/schema.ts";
import { arc, persona, template, topic } from "./_fakes.ts";

function scaffolding(withTemplate: boolean): Scaffolding {
  return {
    persona: PersonaRowSchema.parse(persona),
    arc: EmotionalArcRowSchema.parse(arc),
    topic: TrainingTopicRowSchema.parse(topic),
    template: withTemplate ? PromptTemplateRowSchema.parse(template) : null,
    tier: "template",
  };
}

Deno.test("templateVariables() offers prefixed names, unique bare names and the tier", () => {
  const vars = templateVariables(scaffolding(false));
  assert.equal(vars.get("persona_name"), "David Chen");
  assert.equal(vars.get("persona_key"), "anxious_planner", "a column carrying its prefix keeps its name");
  assert.equal(vars.get("arc_name"), "Shame to Acceptance");
  assert.equal(vars.get("emotional_arc_name"), "Shame to Acceptance");
  assert.equal(vars.get("topic_name"), "529 College Savings Plans");
  assert.equal(vars.get("training_topic_name"), "529 College Savings Plans");
  assert.equal(vars.get("starting_emotion"), "shame");
  assert.equal(vars.get("typical_turn_count_min"), "6");
  assert.equal(vars.get("common_concerns"), "retirement, college costs");
  assert.equal(vars.get("name"), undefined, "`name` exists in three rows: only prefixed forms");
  assert.equal(vars.get("tier"), "template");
});

Deno.test("resolveTemplate() fills known placeholders and removes and reports unknown ones", () => {
  const vars = new Map([["persona_name", "David Chen"]]);
  const r = resolveTemplate("Hi {{persona_name}}, {{ persona_name }}! {{mystery}} {{other.thing}}", vars);
  assert.equal(r.text, "Hi David Chen, David Chen!  ");
  assert.deepEqual(r.unresolved, ["mystery", "other.thing"]);
});

Deno.test("buildPrompt() uses the template when there is one and never sends a literal placeholder", () => {
  const built = buildPrompt(scaffolding(true), conversationJsonSchema);
  assert.equal(built.templateId, template.id);
  assert.match(built.prompt, /^Write about David Chen \(Anxious Planner\) feeling shame about 529 College/);
  assert.doesNotMatch(built.prompt, /\{\{/);
  assert.deepEqual(built.unresolved, []);
  assert.equal(built.system, SYSTEM_PROMPT);
});

Deno.test("buildPrompt() falls back to the built-in prompt naming persona, arc, topic, tier and turn range", () => {
  const built = buildPrompt(scaffolding(false), conversationJsonSchema);
  assert.equal(built.templateId, null);
  for (
    const needle of ["David Chen", "Anxious Planner", "shame", "acceptance", "529 College", "Tier: template"]
  ) {
    assert.ok(built.prompt.includes(needle), `prompt mentions ${needle}`);
  }
  assert.match(built.prompt, /6 to 10 turns/);
  assert.doesNotMatch(built.prompt, /\n\n\n/, "no empty sections left behind");
});

Deno.test("buildPrompt() keeps the parse engine's schema in the plain-JSON fallback instructions", () => {
  const built = buildPrompt(scaffolding(false), conversationJsonSchema);
  assert.ok(built.plainJsonInstructions.includes(JSON.stringify(conversationJsonSchema)));
  assert.match(built.plainJsonInstructions, /no markdown code fences/);
  assert.ok(!built.prompt.includes('"$schema"'), "the schema is not in the structured-output prompt");
});

Deno.test("scaffoldingSnapshot() records ids, keys, prompt and the requested temperature", () => {
  const s = scaffolding(true);
  const built = buildPrompt(s, conversationJsonSchema);
  const snap = scaffoldingSnapshot(s, built, {
    model: "claude-sonnet-4-5",
    maxTokens: 24576,
    requestedTemperature: 0.4,
    generatedAt: new Date("2026-11-26T00:00:00Z"),
  });
  assert.equal((snap.persona as { persona_key: string }).persona_key, "anxious_planner");
  assert.equal((snap.template as { id: string }).id, template.id);
  assert.equal(snap.requested_temperature, 0.4);
  assert.equal(snap.prompt, built.prompt);
  assert.equal(snap.generation_timestamp, "2026-11-26T00:00:00.000Z");
});
