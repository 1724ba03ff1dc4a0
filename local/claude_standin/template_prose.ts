/**
 * The persona, arc and topic as the project's own prompts word them: the seeded prompt templates
 * (supabase/seed.sql, rendered by shared/generate/prompt.ts) and the built-in prompt write prose such as
 * "between Jennifer Martinez (The Anxious Planner) and Elena Morales", "The topic is HSA vs FSA." or "moves
 * them from anxiety to confidence by", not `Persona:` lines. scaffoldingFromPrompt() (conversation.ts) takes
 * what this finds over its labelled lines, so the stand-in's answer is about the persona, arc and topic asked
 * for. Pure; tests/integration/generate/standin_prompt_test.ts renders every seeded template to check it.
 */
import type { Scaffolding } from "./conversation.ts";

/** One line, no quotes or control characters, bounded. */
function tidy(value: string, max: number): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what must go
  return value.replace(/["\\\u0000-\u001f]/g, " ").replace(/\s+/g, " ").trim().slice(0, max).trim();
}

const NAME = String.raw`[A-Z][\w'.-]*(?:[ \t]+[A-Z][\w'.-]*)+`;
const ADVISOR = /^Elena\b/;

/** "Name (Archetype)": the persona in every seeded template but the scenario one, and in the built-in prompt. */
const PERSONA_WITH_ARCHETYPE = new RegExp(String.raw`(${NAME})[ \t]+\(([^()\n]{2,60})\)`, "g");
/** The scenario template: "Scenario (tier): Name, occupation, is …". */
const PERSONA_SCENARIO = new RegExp(
  String.raw`Scenario[ \t]*\([^)\n]*\):[ \t]*(${NAME}),[ \t]*([^,\n]{2,60}),`,
);

/** Most specific first: "about something they are ashamed of:" must not win over "The topic is X.". */
const TOPIC: RegExp[] = [
  /\bThe topic is\s+([^.\n]{2,80}?)\.(?:\s|$)/,
  /\bTraining topic:\s+([^.\n]{2,80}?)\.(?:\s|$)/,
  /\ba decision on\s+([^.\n]{2,80}?)\.(?:\s|$)/,
  /\bstarts asking about\s+([^,\n]{2,80}?),/,
  /\bdecisions around\s+([^.\n]{2,80}?)\.(?:\s|$)/,
  /\babout\s+([^:\n]{2,80}?):\s/,
];

/** [start, end] pairs, or a start and an end found apart (the edge-case and overwhelm templates). */
const ARC_PAIR: RegExp[] = [
  /\bstarts in\s+([^,.\n]{2,40}?)\s+and,?\s+(?:gradually,?\s+)?reaches\s+([^,.\n]{2,40}?)\./,
  /\bstart feeling\s+([^(,.\n]{2,40}?)\s*(?:\([^)]*\)\s*)?and end at\s+([^,.\n]{2,40}?)\./,
  /\bfrom\s+([a-z][^,.\n]{1,40}?)\s+to\s+([a-z][^,.\n]{1,40}?)(?:\s+by\b|\)|\.)/,
];
const ARC_START: RegExp[] = [/\bThey are in\s+([^,.\n]{2,40}?)\./, /\bfeeling\s+([a-z][^:,.\n]{1,40}?):/];
const ARC_END: RegExp[] = [
  /\bThe client ends\s+([^,.\n]{2,40}?)[,.]/,
  /\bthe client feels\s+([^,.\n]{2,40}?)\s+and\b/,
];

function first(text: string, patterns: RegExp[]): RegExpExecArray | null {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m) return m;
  }
  return null;
}

export function proseScaffolding(prompt: string): Partial<Scaffolding> {
  const out: Partial<Scaffolding> = {};
  for (const m of prompt.matchAll(PERSONA_WITH_ARCHETYPE)) {
    if (ADVISOR.test(m[1])) continue;
    out.personaName = tidy(m[1], 60);
    out.archetype = tidy(m[2], 60);
    break;
  }
  if (!out.personaName) {
    const m = PERSONA_SCENARIO.exec(prompt);
    if (m) {
      out.personaName = tidy(m[1], 60);
      out.archetype = tidy(m[2], 60);
    }
  }
  const topic = first(prompt, TOPIC);
  if (topic) out.topic = tidy(topic[1], 80);
  const pair = first(prompt, ARC_PAIR);
  if (pair) {
    out.startEmotion = tidy(pair[1], 30).toLowerCase();
    out.endEmotion = tidy(pair[2], 30).toLowerCase();
  } else {
    const start = first(prompt, ARC_START);
    const end = first(prompt, ARC_END);
    if (start) out.startEmotion = tidy(start[1], 30).toLowerCase();
    if (end) out.endEmotion = tidy(end[1], 30).toLowerCase();
  }
  return out;
}
