/**
 * The conversation the stand-in "generates": schema-valid (shared/parse/schema.ts's shape) and built from the
 * scaffolding the prompt names, so a pipeline test can check that persona, arc and topic made it through.
 *
 * The prompt is read leniently, line by line: `Persona: Name - Archetype` (or `Persona name:` plus
 * `Archetype:`), `Emotional arc: start → end` (or `Starting emotion:` / `Ending emotion:`), `Topic:` /
 * `Training topic:`, `Phase:`, and a turn count (`Turns: 8`, `8 turns`, `turn_count: 8`). Missing pieces fall
 * back to fixed defaults. The project's own templates word persona, arc and topic as prose ("between Jennifer
 * Martinez (The Anxious Planner) and …", "The topic is …", "from anxiety to confidence by …"); what
 * template_prose.ts reads from that wins over the labelled lines. Pure and deterministic for a given seed.
 */
import { seededRandom } from "./behavior.ts";
import { proseScaffolding } from "./template_prose.ts";

export interface Scaffolding {
  personaName: string;
  archetype: string;
  startEmotion: string;
  endEmotion: string;
  topic: string;
  phase: string;
  turnCount: number;
}

export interface StandinTurn {
  turn_number: number;
  role: "user" | "assistant";
  content: string;
  emotional_context: { primary_emotion: string; secondary_emotion?: string; intensity: number };
}

export interface StandinConversation {
  conversation_metadata: {
    client_persona: string;
    session_context: string;
    conversation_phase: string;
    expected_outcome?: string;
  };
  turns: StandinTurn[];
}

export const DEFAULT_SCAFFOLDING: Scaffolding = {
  personaName: "Marcus Chen",
  archetype: "Overwhelmed Avoider",
  startEmotion: "anxiety",
  endEmotion: "relief",
  topic: "choosing between an HSA and an FSA",
  phase: "initial_opportunity_exploration",
  turnCount: 6,
};

/** Keeps a value usable inside generated prose and JSON: one line, no quotes, bounded length. */
function clean(value: string, max = 80): string {
  // deno-lint-ignore no-control-regex -- control characters are exactly what must go
  return value.replace(/["\\\u0000-\u001f]/g, " ").replace(/\s+/g, " ").trim().slice(0, max).trim();
}

function firstMatch(text: string, patterns: RegExp[]): string | null {
  for (const re of patterns) {
    const m = re.exec(text);
    if (m?.[1] && clean(m[1]) !== "") return clean(m[1]);
  }
  return null;
}

export function scaffoldingFromPrompt(prompt: string): Scaffolding {
  const s: Scaffolding = { ...DEFAULT_SCAFFOLDING };
  const persona = firstMatch(prompt, [
    /^\W*(?:client\s+)?persona(?:\s+name)?\s*[:=]\s*(.+)$/im,
    /^\W*client\s*[:=]\s*(.+)$/im,
  ]);
  if (persona) {
    const [name, arche] = persona.split(/\s+[-–—|]\s+|\s*\(\s*/);
    s.personaName = clean(name.replace(/\)$/, ""), 60) || s.personaName;
    if (arche) s.archetype = clean(arche.replace(/\)$/, ""), 60) || s.archetype;
  }
  const archetype = firstMatch(prompt, [/^\W*archetype\s*[:=]\s*(.+)$/im]);
  if (archetype) s.archetype = archetype;

  const arc = firstMatch(prompt, [/^\W*(?:emotional[\s_-]*)?arc\s*[:=]\s*(.+)$/im]);
  if (arc) {
    const m = /([a-z][a-z\s_-]*?)\s*(?:→|->|=>|\bto\b)\s*([a-z][a-z\s_-]*)/i.exec(arc.replace(/_/g, " "));
    if (m) {
      s.startEmotion = clean(m[1], 30).toLowerCase();
      s.endEmotion = clean(m[2], 30).toLowerCase();
    }
  }
  const start = firstMatch(prompt, [/^\W*start(?:ing)?[\s_-]*emotion\s*[:=]\s*(.+)$/im]);
  if (start) s.startEmotion = start.toLowerCase();
  const end = firstMatch(prompt, [/^\W*end(?:ing)?[\s_-]*emotion\s*[:=]\s*(.+)$/im]);
  if (end) s.endEmotion = end.toLowerCase();

  const topic = firstMatch(prompt, [/^\W*(?:training[\s_-]*)?topic(?:\s+name)?\s*[:=]\s*(.+)$/im]);
  if (topic) s.topic = topic;
  const phase = firstMatch(prompt, [/^\W*(?:conversation[\s_-]*)?phase\s*[:=]\s*(.+)$/im]);
  if (phase) s.phase = phase.replace(/\s+/g, "_").toLowerCase();

  const turns = firstMatch(prompt, [
    /^\W*(?:turns|turn[\s_-]*count|number of turns)\s*[:=]\s*(\d+)/im,
    /\b(\d{1,2})\s*(?:-|\s)?turns?\b/i,
  ]);
  if (turns) {
    const n = Number(turns);
    // Keep it a whole exchange (ends with the advisor) and within what a real request would ask for.
    if (Number.isFinite(n)) s.turnCount = Math.min(24, Math.max(2, n % 2 === 0 ? n : n + 1));
  }
  // The project's own templates word persona, arc and topic as prose; what they say wins (template_prose.ts).
  return { ...s, ...proseScaffolding(prompt) };
}

const USER_LINES = [
  (s: Scaffolding) => `I've been putting this off for months, but I really need help with ${s.topic}.`,
  (s: Scaffolding) =>
    `Honestly, every time I read about ${s.topic} I just close the tab. Where do I even start?`,
  () => `My brother-in-law keeps saying "just max it out" but I don't know what that means for us.`,
  () => `Okay, that makes more sense. But what happens if I guess wrong and lose the money?`,
  () => `We have a baby on the way, so medical costs are about to go up. Does that change anything?`,
  () => `I think I'm following. Can you walk me through what I'd actually do this week?`,
  () => `That's less scary than I expected. What should I check before the enrollment deadline?`,
  () => `I keep thinking there's a catch. Is there something people usually miss?`,
  () => `Thank you. I feel like I can actually explain this to my partner now.`,
];

const ASSISTANT_LINES = [
  (s: Scaffolding) =>
    `Thank you for bringing this up, ${
      s.personaName.split(" ")[0]
    }. Feeling stuck on ${s.topic} is very common, and we can take it one step at a time.`,
  () =>
    `Let's start with what you already know: your expected medical costs for the year and whether your plan is high-deductible.`,
  () =>
    `When people say "max it out", they mean contributing the annual limit. Whether that's right depends on your cash flow, not on a rule of thumb.`,
  () =>
    `That worry makes sense. The key difference is what happens to unused money at the end of the year, so let's look at that together.`,
  () =>
    `Congratulations! A baby usually means predictable costs, which makes it easier to plan contributions with confidence.`,
  () =>
    `This week, pull last year's medical receipts and your plan summary. Those two documents answer most of the open questions.`,
  () =>
    `Check the deadline, the contribution limits, and whether your employer adds anything. Then you can decide calmly.`,
  () =>
    `The most common miss is forgetting to use the account for eligible expenses. A simple reminder solves that.`,
  () =>
    `You've done the hard part by asking. Let's write down the two or three decisions so you can share them at home.`,
];

const SECONDARY = ["uncertainty", "hope", "curiosity", "embarrassment", "determination", "trust"];

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A schema-valid conversation: alternating user/assistant turns, 1-based numbers, ending with the advisor. */
export function buildConversation(s: Scaffolding, seed: number): StandinConversation {
  const rand = seededRandom(seed);
  const turns: StandinTurn[] = [];
  const pairs = s.turnCount / 2;
  for (let i = 0; i < s.turnCount; i++) {
    const isUser = i % 2 === 0;
    const pair = Math.floor(i / 2);
    const progress = pairs <= 1 ? 1 : pair / (pairs - 1);
    const lines = isUser ? USER_LINES : ASSISTANT_LINES;
    // The first pair names the scaffolding; later pairs vary with the seed.
    const pick = pair === 0 ? 0 : 1 + Math.floor(rand() * (lines.length - 1));
    const emotion = isUser ? (progress < 0.5 ? s.startEmotion : s.endEmotion) : "calm";
    const intensity = isUser ? round2(0.85 - 0.6 * progress + rand() * 0.1) : round2(0.3 + rand() * 0.2);
    const ctx: StandinTurn["emotional_context"] = { primary_emotion: emotion, intensity };
    if (rand() < 0.6) ctx.secondary_emotion = SECONDARY[Math.floor(rand() * SECONDARY.length)];
    turns.push({
      turn_number: i + 1,
      role: isUser ? "user" : "assistant",
      content: lines[pick](s),
      emotional_context: ctx,
    });
  }
  return {
    conversation_metadata: {
      client_persona: `${s.personaName} - ${s.archetype}`,
      session_context:
        `${s.personaName} asks for help with ${s.topic} after months of avoiding the decision.`,
      conversation_phase: s.phase,
      expected_outcome:
        `${s.personaName} moves from ${s.startEmotion} to ${s.endEmotion} with a concrete next step.`,
    },
    turns,
  };
}
