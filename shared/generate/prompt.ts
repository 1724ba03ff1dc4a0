/**
 * The prompt Claude receives, built from the scaffolding rows (persona, emotional arc, training topic, tier) and,
 * when one matches, a `prompt_templates` row whose `{{placeholders}}` are resolved from those rows.
 *
 * Upstream lessons kept here (the original generator's prompt bugs, docs/GENERATE.md): send the resolved `template_text`
 * (not the template's notes); never leave a literal `{{persona_name}}` in the prompt (Claude then invents a
 * name); send the system prompt (upstream only saved it); ask for the parse engine's schema.
 *
 * used by: shared/generate/prepare.ts
 */
import { z } from "zod";
import type { Tier } from "./request.ts";

const text = z.string().nullish();
const num = z.union([z.number(), z.string()]).nullish();
const list = z.array(z.string()).nullish();

/** Rows as read with `to_jsonb(row)`: the fields the prompt uses are typed; any other column is kept. */
export const PersonaRowSchema = z.looseObject({
  id: z.string(),
  persona_key: z.string(),
  name: z.string(),
  archetype: z.string(),
  age_range: text,
  occupation: text,
  income_range: text,
  financial_background: text,
  financial_situation: text,
  communication_style: text,
  emotional_baseline: text,
  typical_questions: list,
  common_concerns: list,
  language_patterns: list,
});

export const EmotionalArcRowSchema = z.looseObject({
  id: z.string(),
  arc_key: z.string(),
  name: z.string(),
  starting_emotion: z.string(),
  ending_emotion: z.string(),
  arc_strategy: text,
  key_principles: list,
  characteristic_phrases: list,
  response_techniques: list,
  avoid_tactics: list,
  typical_turn_count_min: num,
  typical_turn_count_max: num,
});

export const TrainingTopicRowSchema = z.looseObject({
  id: z.string(),
  topic_key: z.string(),
  name: z.string(),
  category: text,
  description: text,
  complexity_level: text,
  key_concepts: list,
  typical_question_examples: list,
});

export const PromptTemplateRowSchema = z.looseObject({
  id: z.string(),
  template_name: text,
  template_text: z.string(),
  emotional_arc_type: text,
  tier: text,
});

export type PersonaRow = z.infer<typeof PersonaRowSchema>;
export type EmotionalArcRow = z.infer<typeof EmotionalArcRowSchema>;
export type TrainingTopicRow = z.infer<typeof TrainingTopicRowSchema>;
export type PromptTemplateRow = z.infer<typeof PromptTemplateRowSchema>;

export interface Scaffolding {
  persona: PersonaRow;
  arc: EmotionalArcRow;
  topic: TrainingTopicRow;
  template: PromptTemplateRow | null;
  tier: Tier;
}

export interface BuiltPrompt {
  system: string;
  /** The user message: the resolved template (or the built-in prompt) plus a short output reminder. */
  prompt: string;
  /**
   * Appended to the prompt only when structured outputs are unavailable (the API rejected the schema or the
   * model lacks the feature): the schema and the plain-JSON rules the model must then follow on its own.
   */
  plainJsonInstructions: string;
  templateId: string | null;
  /** Placeholders the template used that no scaffolding field could fill (removed from the prompt, logged). */
  unresolved: string[];
}

/**
 * Upstream's advisor persona (Elena Morales, CFP) and its five principles, sent as the system prompt so every
 * conversation has the same advisor voice whatever the template says.
 */
export const SYSTEM_PROMPT = [
  "You write realistic training conversations between a client and Elena Morales, CFP, a warm and precise",
  "financial planner. They are used to train an empathetic financial-advice assistant.",
  "",
  "Elena's principles:",
  "1. Acknowledge the client's emotion before giving information.",
  "2. Normalize money struggles; never shame or judge.",
  "3. Explain one idea at a time, in plain language, with concrete numbers where they help.",
  "4. Ask before advising; check understanding; respect the client's pace.",
  "5. Stay within general education: suggest a specialist for tax, legal or crisis situations.",
  "",
  "The client's turns sound like a real person with the persona's background, worries and language.",
  "The emotional arc moves gradually across the turns; it is never resolved in a single reply.",
].join("\n");

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map(formatValue).filter((s) => s !== "").join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * Every column of the three rows as a template variable: prefixed (`persona_name`, `arc_name`,
 * `emotional_arc_name`, `topic_name`, `training_topic_name`; a column already carrying its prefix, like
 * `persona_key`, keeps its name) and bare when the column name is unique across the rows
 * (`starting_emotion`, `typical_turn_count_min`, `archetype`). Plus `tier`.
 */
export function templateVariables(
  s: Pick<Scaffolding, "persona" | "arc" | "topic" | "tier">,
): Map<string, string> {
  const vars = new Map<string, string>();
  const sources: Array<[Record<string, unknown>, string[]]> = [
    [s.persona, ["persona"]],
    [s.arc, ["arc", "emotional_arc"]],
    [s.topic, ["topic", "training_topic"]],
  ];
  const seen = new Map<string, number>();
  for (const [row] of sources) for (const key of Object.keys(row)) seen.set(key, (seen.get(key) ?? 0) + 1);
  for (const [row, prefixes] of sources) {
    for (const [key, value] of Object.entries(row)) {
      const formatted = formatValue(value);
      for (const prefix of prefixes) {
        vars.set(key.startsWith(`${prefix}_`) ? key : `${prefix}_${key}`, formatted);
      }
      if (seen.get(key) === 1) vars.set(key, formatted);
    }
  }
  vars.set("tier", s.tier);
  return vars;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;

/** Fills `{{name}}` placeholders; unknown ones are removed (never sent literally) and reported. */
export function resolveTemplate(
  templateText: string,
  vars: ReadonlyMap<string, string>,
): { text: string; unresolved: string[] } {
  const unresolved = new Set<string>();
  const text = templateText.replace(PLACEHOLDER, (_m, name: string) => {
    const value = vars.get(name);
    if (value === undefined) {
      unresolved.add(name);
      return "";
    }
    return value;
  });
  return { text, unresolved: [...unresolved].sort() };
}

const TIER_GUIDANCE: Record<Tier, string> = {
  template: "A foundational conversation: the arc unfolds in its typical, textbook form.",
  scenario: "A contextual variation: give the client a specific life situation that shapes the arc.",
  edge_case:
    "An edge case: the client is in crisis, hostile or overwhelmed; the advisor sets boundaries, triages, or refers to a specialist.",
};

function line(label: string, value: unknown): string {
  const v = formatValue(value);
  return v === "" ? "" : `- ${label}: ${v}`;
}

function turnRange(arc: EmotionalArcRow): string {
  const min = Number(arc.typical_turn_count_min ?? NaN);
  const max = Number(arc.typical_turn_count_max ?? NaN);
  if (Number.isFinite(min) && Number.isFinite(max)) return `${min} to ${max}`;
  return "8 to 12";
}

/** The prompt used when no template matches the arc and tier. */
export function builtInPrompt(s: Scaffolding): string {
  const { persona, arc, topic } = s;
  return [
    `Write one conversation between ${persona.name} (${persona.archetype}) and Elena Morales, CFP.`,
    "",
    "Client persona:",
    line("Name", persona.name),
    line("Archetype", persona.archetype),
    line("Age range", persona.age_range),
    line("Occupation", persona.occupation),
    line("Income range", persona.income_range),
    line("Financial situation", persona.financial_situation ?? persona.financial_background),
    line("Communication style", persona.communication_style),
    line("Emotional baseline", persona.emotional_baseline),
    line("Common concerns", persona.common_concerns),
    line("Typical questions", persona.typical_questions),
    line("Language patterns", persona.language_patterns),
    "",
    `Emotional arc: ${arc.name} (from ${arc.starting_emotion} to ${arc.ending_emotion}).`,
    line("Strategy", arc.arc_strategy),
    line("Key principles", arc.key_principles),
    line("Response techniques", arc.response_techniques),
    line("Avoid", arc.avoid_tactics),
    line("Characteristic phrases", arc.characteristic_phrases),
    "",
    `Training topic: ${topic.name}.`,
    line("Category", topic.category),
    line("Description", topic.description),
    line("Complexity", topic.complexity_level),
    line("Key concepts", topic.key_concepts),
    line("Example questions", topic.typical_question_examples),
    "",
    `Tier: ${s.tier}. ${TIER_GUIDANCE[s.tier]}`,
    `Length: ${turnRange(arc)} turns, alternating client (role "user") and advisor (role "assistant"),`,
    "starting with the client and ending with the advisor.",
  ].filter((l, i, all) => l !== "" || (i > 0 && all[i - 1] !== "")).join("\n");
}

const OUTPUT_REMINDER = [
  "Return the conversation as one JSON object with conversation_metadata (client_persona as",
  '"Name - Archetype", session_context, conversation_phase, expected_outcome) and turns (turn_number from 1,',
  "role, content, emotional_context with primary_emotion, optional secondary_emotion, and intensity from 0 to 1).",
].join(" ");

const instructionsCache = new WeakMap<Record<string, unknown>, string>();

/** The fallback instructions, built once per schema object (the schema is a constant of the parse engine). */
export function plainJsonInstructions(schema: Record<string, unknown>): string {
  const cached = instructionsCache.get(schema);
  if (cached !== undefined) return cached;
  const text = [
    "Output format (strict):",
    "- Reply with the JSON object only: no prose before or after it, no markdown code fences.",
    '- Escape every double quote inside a string value as \\" and every line break as \\n.',
    "- No trailing commas, no comments.",
    "- It must validate against this JSON Schema:",
    JSON.stringify(schema),
  ].join("\n");
  instructionsCache.set(schema, text);
  return text;
}

/**
 * What Claude is sent for a conversation: the fixed system prompt, and the user prompt — the scaffolding's
 * template resolved (placeholders it cannot fill are reported in `unresolved` for the log), else the built-in
 * prompt — ending with the reminder of the output shape; plus the plain-JSON instructions for a model without
 * structured outputs, and the template id the row records.
 */
export function buildPrompt(s: Scaffolding, outputSchema: Record<string, unknown>): BuiltPrompt {
  let body: string;
  let unresolved: string[] = [];
  if (s.template) {
    const resolved = resolveTemplate(s.template.template_text, templateVariables(s));
    body = resolved.text.trim();
    unresolved = resolved.unresolved;
  } else {
    body = builtInPrompt(s);
  }
  return {
    system: SYSTEM_PROMPT,
    prompt: `${body}\n\n${OUTPUT_REMINDER}`,
    plainJsonInstructions: plainJsonInstructions(outputSchema),
    templateId: s.template?.id ?? null,
    unresolved,
  };
}

/**
 * What the row keeps of the scaffolding as it was at generation time (rows can be edited later), enough to
 * rebuild the request and to audit the prompt without the scaffolding tables.
 */
export function scaffoldingSnapshot(
  s: Scaffolding,
  built: BuiltPrompt,
  params: { model: string; maxTokens: number; requestedTemperature: number | null; generatedAt: Date },
): Record<string, unknown> {
  return {
    scaffolding_version: "1.0",
    generation_timestamp: params.generatedAt.toISOString(),
    tier: s.tier,
    persona: {
      id: s.persona.id,
      persona_key: s.persona.persona_key,
      name: s.persona.name,
      archetype: s.persona.archetype,
    },
    emotional_arc: {
      id: s.arc.id,
      arc_key: s.arc.arc_key,
      name: s.arc.name,
      starting_emotion: s.arc.starting_emotion,
      ending_emotion: s.arc.ending_emotion,
    },
    training_topic: {
      id: s.topic.id,
      topic_key: s.topic.topic_key,
      name: s.topic.name,
      complexity_level: s.topic.complexity_level ?? null,
    },
    template: s.template ? { id: s.template.id, template_name: s.template.template_name ?? null } : null,
    unresolved_placeholders: built.unresolved,
    model: params.model,
    max_tokens: params.maxTokens,
    // Recorded, not sent: the Messages API (version 2026-10-21) refuses sampling parameters.
    requested_temperature: params.requestedTemperature,
    system_prompt: built.system,
    prompt: built.prompt,
  };
}
