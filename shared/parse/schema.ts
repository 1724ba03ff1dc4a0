/**
 * The conversation Claude must produce: the zod schema is the source of truth; the TypeScript types are inferred
 * from it and the JSON Schema sent to Claude (structured outputs, `output_config.format`) is derived from it.
 *
 * used by: shared/parse/validate.ts, shared/parse/truncation.ts; the generate flow sends
 * `conversationOutputFormat` to Claude.
 */
import { z } from "zod";

/** Non-empty after trimming: whitespace-only content carries no turn. */
function isNotBlank(text: string): boolean {
  return /\S/.test(text);
}

export const EmotionalContextSchema = z.strictObject({
  primary_emotion: z.string().describe(
    "The main emotion the speaker shows in this turn, e.g. shame or relief",
  ),
  secondary_emotion: z.string().optional().describe("A second emotion, if one is present"),
  intensity: z.number().min(0).max(1).describe(
    "How strong the primary emotion is: a number from 0 (barely present) to 1 (overwhelming), inclusive",
  ),
});

export const TurnSchema = z.strictObject({
  turn_number: z.int().min(1).describe(
    "Position of the turn: 1 for the first turn, then 2, 3, ... with no gaps",
  ),
  role: z.enum(["user", "assistant"]).describe("user for the client, assistant for the advisor"),
  content: z.string().min(1).refine(isNotBlank, "must not be blank").describe(
    "What the speaker says, as plain text; must not be empty",
  ),
  emotional_context: EmotionalContextSchema,
});

export const ConversationMetadataSchema = z.strictObject({
  client_persona: z.string().describe('The client, as "Name - Archetype"'),
  session_context: z.string().describe("Why the client is here and what led to this session"),
  conversation_phase: z.string().describe(
    "The phase of the advisory relationship, e.g. initial_opportunity_exploration",
  ),
  expected_outcome: z.string().optional().describe("Where the conversation should leave the client"),
});

/** Alternation and numbering cannot be expressed per turn; they are checked over the whole list. */
function checkTurnSequence(turns: readonly Turn[], ctx: z.RefinementCtx): void {
  turns.forEach((turn, index) => {
    if (turn.turn_number !== index + 1) {
      ctx.addIssue({ code: "custom", path: [index, "turn_number"], message: `must be ${index + 1}` });
    }
    const expected = index % 2 === 0 ? "user" : "assistant";
    if (turn.role !== expected) {
      ctx.addIssue({ code: "custom", path: [index, "role"], message: `must be ${expected}` });
    }
  });
  const last = turns[turns.length - 1];
  if (last !== undefined && last.role !== "assistant") {
    ctx.addIssue({ code: "custom", path: [], message: "must end with an assistant turn" });
  }
}

export const TurnsSchema = z.array(TurnSchema).min(2).superRefine(checkTurnSequence).describe(
  "At least 2 turns, alternating user and assistant, starting with user and ending with assistant",
);

export const ConversationSchema = z.strictObject({
  conversation_metadata: ConversationMetadataSchema,
  turns: TurnsSchema,
});

export type EmotionalContext = z.infer<typeof EmotionalContextSchema>;
export type Turn = z.infer<typeof TurnSchema>;
export type ConversationMetadata = z.infer<typeof ConversationMetadataSchema>;
export type Conversation = z.infer<typeof ConversationSchema>;

/**
 * What a truncated response yields: the parts that were complete in the raw text. Metadata is null when its
 * object never closed or did not validate; turns are a valid run from turn 1 that may end with a user turn.
 */
export interface PartialConversation {
  readonly conversation_metadata: ConversationMetadata | null;
  readonly turns: readonly Turn[];
}

type JsonSchema = { [key: string]: unknown };

/**
 * Keywords Claude's structured outputs reject ("For number type, properties maximum, minimum are not supported")
 * or ignore; ranges are stated in the descriptions instead. `minItems` is allowed only as 0 or 1.
 */
const UNSUPPORTED_KEYWORDS = new Set([
  "$schema",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "minLength",
  "maxLength",
  "maxItems",
  "pattern",
]);

function toStructuredOutputSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructuredOutputSchema);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (UNSUPPORTED_KEYWORDS.has(key)) continue;
    if (key === "minItems" && typeof value === "number") {
      out[key] = Math.min(value, 1);
    } else if (key === "properties" && value !== null && typeof value === "object") {
      // `properties` maps field names to schemas: a field may be called "pattern"; only its schema is cleaned.
      out[key] = Object.fromEntries(
        Object.entries(value).map(([name, schema]) => [name, toStructuredOutputSchema(schema)]),
      );
    } else {
      out[key] = toStructuredOutputSchema(value);
    }
  }
  return out;
}

/** The JSON Schema for `output_config.format.schema`: no numeric or length bounds, `additionalProperties: false`. */
export const conversationJsonSchema: JsonSchema = toStructuredOutputSchema(
  z.toJSONSchema(ConversationSchema, { target: "draft-2020-12" }),
) as JsonSchema;

/** Ready to send as the Messages API `output_config.format`. */
export const conversationOutputFormat = { type: "json_schema", schema: conversationJsonSchema } as const;
