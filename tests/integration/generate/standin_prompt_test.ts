/**
 * The Claude stand-in honours the prompt: every seeded prompt template (and the built-in prompt), rendered by
 * generate-conversation's own code for every active persona and topic, is read back by the stand-in as that
 * persona, archetype (or, in the scenario template, occupation), topic and arc — so the parsed conversation is
 * about the person asked for, not the stand-in's default.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { databaseUrl } from "../../../local/paths.ts";
import { buildConversation, scaffoldingFromPrompt } from "../../../local/claude_standin/conversation.ts";
import {
  buildPrompt,
  EmotionalArcRowSchema,
  PersonaRowSchema,
  PromptTemplateRowSchema,
  TrainingTopicRowSchema,
} from "../../../shared/generate/prompt.ts";

Deno.test("stand-in: each seeded template names the persona, arc and topic the request asked for", async () => {
  const sql = postgres(databaseUrl(), { prepare: false, max: 1, onnotice: () => {} });
  try {
    const rows = async (table: string) =>
      (await sql.unsafe(`select to_jsonb(t) as r from public.${table} t where is_active order by 1`)).map((
        x,
      ) => x.r as Record<string, unknown>);
    const personas = (await rows("personas")).map((r) => PersonaRowSchema.parse(r));
    const arcs = (await rows("emotional_arcs")).map((r) => EmotionalArcRowSchema.parse(r));
    const topics = (await rows("training_topics")).map((r) => TrainingTopicRowSchema.parse(r));
    const templates = (await rows("prompt_templates")).map((r) => PromptTemplateRowSchema.parse(r));
    assert.ok(personas.length >= 2 && templates.length >= 2, "the seed is loaded");

    let checked = 0;
    for (const template of [...templates, null]) {
      const arc = template ? arcs.find((a) => a.arc_key === template.emotional_arc_type) : arcs[0];
      assert.ok(arc, `an arc for ${template?.template_name}`);
      personas.forEach((persona, i) => {
        const topic = topics[i % topics.length];
        const tier = (template?.tier ?? "template") as "template";
        const { prompt } = buildPrompt({ persona, arc, topic, template, tier }, {});
        const s = scaffoldingFromPrompt(prompt);
        const label = `${template?.template_name ?? "built-in prompt"} × ${persona.name}`;
        assert.equal(s.personaName, persona.name, label);
        const scenario = /\bScenario\b/.test(String(template?.template_text ?? ""));
        assert.equal(s.archetype, scenario ? persona.occupation : persona.archetype, label);
        assert.equal(s.topic, topic.name, label);
        assert.equal(s.startEmotion, String(arc.starting_emotion).toLowerCase(), label);
        assert.equal(s.endEmotion, String(arc.ending_emotion).toLowerCase(), label);
        const conv = buildConversation(s, i);
        assert.equal(conv.conversation_metadata.client_persona, `${persona.name} - ${s.archetype}`);
        checked++;
      });
    }
    assert.equal(checked, (templates.length + 1) * personas.length);
  } finally {
    await sql.end();
  }
});
