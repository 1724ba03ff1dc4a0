/**
 * Step 5 of the parse chain: make the small, recorded coercions, then check the value against the conversation
 * schema (shared/parse/schema.ts).
 *
 * Coercions are limited to what cannot change meaning: a numeric string in a numeric field becomes that number
 * ("0.7" -> 0.7) and an optional field holding null is dropped. Strings are never touched.
 *
 * called by: shared/parse/chain.ts; next: shared/parse/truncation.ts.
 */
import { isRecord } from "./_is_record.ts";
import type { z } from "zod";
import type { Fix } from "./result.ts";
import type { Conversation } from "./schema.ts";
import { ConversationSchema } from "./schema.ts";

export interface SchemaIssue {
  /** e.g. `turns[2].emotional_context.intensity`, or `the document` for the root. */
  readonly path: string;
  /** A fixed phrase with our own numbers only, e.g. `must be at most 1`; never model output. */
  readonly problem: string;
}

export type ValidationResult =
  | { readonly ok: true; readonly conversation: Conversation; readonly fixes: readonly Fix[] }
  | {
    readonly ok: false;
    /** The value after coercion, for the truncation checks and salvage. */
    readonly value: unknown;
    readonly issue: SchemaIssue;
    readonly fixes: readonly Fix[];
  };

const NUMERIC_STRING = /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A copy of `record` without `key`, keeping the order of the other keys. */
function withoutKey(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) {
    if (name !== key) copy[name] = value;
  }
  return copy;
}

function coerceNumber(
  record: Record<string, unknown>,
  key: string,
  path: string,
  fixes: Fix[],
): Record<string, unknown> {
  const value = record[key];
  if (typeof value !== "string" || !NUMERIC_STRING.test(value)) return record;
  const number = Number(value);
  if (!Number.isFinite(number)) return record;
  fixes.push({ step: "validate", code: "coerce_number", detail: path });
  return { ...record, [key]: number };
}

function dropNull(
  record: Record<string, unknown>,
  key: string,
  path: string,
  fixes: Fix[],
): Record<string, unknown> {
  if (record[key] !== null) return record;
  fixes.push({ step: "validate", code: "drop_null", detail: path });
  return withoutKey(record, key);
}

function coerceTurn(turn: unknown, index: number, fixes: Fix[]): unknown {
  if (!isRecord(turn)) return turn;
  let out = coerceNumber(turn, "turn_number", `turns[${index}].turn_number`, fixes);
  const context = turn.emotional_context;
  if (isRecord(context)) {
    let next = coerceNumber(context, "intensity", `turns[${index}].emotional_context.intensity`, fixes);
    next = dropNull(next, "secondary_emotion", `turns[${index}].emotional_context.secondary_emotion`, fixes);
    if (next !== context) out = { ...out, emotional_context: next };
  }
  return out;
}

/** Applies the allowed coercions without mutating `value`; unchanged parts are shared. */
export function coerceConversation(
  value: unknown,
): { readonly value: unknown; readonly fixes: readonly Fix[] } {
  if (!isRecord(value)) return { value, fixes: [] };
  const fixes: Fix[] = [];
  let out = value;
  const metadata = value.conversation_metadata;
  if (isRecord(metadata)) {
    const next = dropNull(metadata, "expected_outcome", "conversation_metadata.expected_outcome", fixes);
    if (next !== metadata) out = { ...out, conversation_metadata: next };
  }
  const turns = value.turns;
  if (Array.isArray(turns)) {
    let copy: unknown[] | null = null;
    turns.forEach((turn: unknown, index) => {
      const next = coerceTurn(turn, index, fixes);
      if (next === turn) return;
      copy ??= [...turns];
      copy[index] = next;
    });
    if (copy !== null) out = { ...out, turns: copy };
  }
  return { value: out, fixes };
}

/** `["turns", 2, "role"]` -> `turns[2].role`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the document";
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else text += text.length === 0 ? String(key) : `.${String(key)}`;
  }
  return text;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

const TYPE_NAMES: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  object: "an object",
  array: "an array",
  boolean: "a boolean",
};

/** Our own wording for a zod issue: zod's messages quote unknown keys, which are model output. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): SchemaIssue {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case "invalid_type": {
      if (issue.path.length > 0 && valueAt(input, issue.path) === undefined) {
        return { path, problem: "is missing" };
      }
      return { path, problem: `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}` };
    }
    case "invalid_value":
      return { path, problem: `must be one of ${issue.values.map(String).join(", ")}` };
    case "too_small":
      if (issue.origin === "string") return { path, problem: "must not be empty" };
      if (issue.origin === "array") return { path, problem: `must have at least ${issue.minimum} items` };
      return { path, problem: `must be at least ${issue.minimum}` };
    case "too_big":
      if (issue.origin === "array") return { path, problem: `must have at most ${issue.maximum} items` };
      return { path, problem: `must be at most ${issue.maximum}` };
    case "unrecognized_keys": {
      const count = issue.keys.length;
      return { path, problem: `has ${count} unexpected propert${count === 1 ? "y" : "ies"}` };
    }
    case "custom":
      // Only our refinements in schema.ts raise custom issues; their messages are fixed phrases.
      return { path, problem: issue.message };
    default:
      return { path, problem: `is invalid (${issue.code})` };
  }
}

/** Coerces, then validates. On failure reports the first issue in document order. */
export function validateConversation(value: unknown): ValidationResult {
  const coerced = coerceConversation(value);
  const result = ConversationSchema.safeParse(coerced.value);
  if (result.success) return { ok: true, conversation: result.data, fixes: coerced.fixes };
  const first = result.error.issues[0];
  const issue = first === undefined
    ? { path: "the document", problem: "is invalid" }
    : describeIssue(first, coerced.value);
  return { ok: false, value: coerced.value, issue, fixes: coerced.fixes };
}

/** "Cannot validate conversation: turns[2].role must be one of user, assistant". */
export function describeSchemaIssue(issue: SchemaIssue): string {
  return `Cannot validate conversation: ${issue.path} ${issue.problem}`;
}
