/**
 * Which conversations the demo asks for: the active scaffolding rows (supabase/seed.sql on a fresh stack),
 * rotated so a batch covers every persona, arc and topic instead of twelve copies of one request. Each arc is
 * asked at its own tier (the prompt template is chosen by arc and tier). Pure: rows in, request bodies out.
 */

export interface ScaffoldingRow {
  id: string;
  /** persona_key / arc_key / topic_key: what the table shows. */
  key: string;
}

export interface ArcRow extends ScaffoldingRow {
  tier: string;
}

export interface Scaffolding {
  personas: ScaffoldingRow[];
  arcs: ArcRow[];
  topics: ScaffoldingRow[];
}

export interface GenerateBody {
  persona_id: string;
  emotional_arc_id: string;
  training_topic_id: string;
  tier: string;
}

export interface DemoItem {
  /** 1-based position in the batch. */
  n: number;
  body: GenerateBody;
  /** "persona / arc / topic" keys, for the table. */
  label: string;
  /** Sent as Idempotency-Key: a request retried after a dropped connection cannot make a second conversation. */
  idempotencyKey: string;
}

const TIERS = new Set(["template", "scenario", "edge_case"]);

export type PlanResult = { ok: true; items: DemoItem[] } | { ok: false; message: string };

export function planDemo(s: Scaffolding, count: number, runId: string): PlanResult {
  for (
    const [name, rows] of [["personas", s.personas], ["emotional_arcs", s.arcs], [
      "training_topics",
      s.topics,
    ]] as const
  ) {
    if (rows.length === 0) {
      return {
        ok: false,
        message:
          `Cannot plan the demo: no active ${name} rows (supabase/seed.sql adds them; run deno task db:reset)`,
      };
    }
  }
  const items: DemoItem[] = [];
  for (let i = 0; i < count; i++) {
    const persona = s.personas[i % s.personas.length];
    const arc = s.arcs[i % s.arcs.length];
    const topic = s.topics[i % s.topics.length];
    items.push({
      n: i + 1,
      body: {
        persona_id: persona.id,
        emotional_arc_id: arc.id,
        training_topic_id: topic.id,
        tier: TIERS.has(arc.tier) ? arc.tier : "template",
      },
      label: `${persona.key} / ${arc.key} / ${topic.key}`,
      idempotencyKey: `demo-${runId}-${i + 1}`,
    });
  }
  return { ok: true, items };
}
