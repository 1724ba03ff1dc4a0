/**
 * The floor: what jsonrepair alone recovers, after extraction only, checked by the schema. No scanner, no
 * inner-quote grammar, no truncation rules.
 *
 * Why it exists: the engine's own steps run before jsonrepair and can make things worse (a comment read as an
 * open string, typographic quotes read as "no JSON"). The differential test (tests/unit/parse/differential_test.ts)
 * measures the engine against this floor on thousands of generated cases, and the chain (shared/parse/chain.ts)
 * falls back to it, guarded, so the engine never returns less than the library alone would.
 *
 * The floor accepts what it should not: jsonrepair closes cut-off JSON silently and misreads some inner quotes.
 * `readFloor` therefore also says whether jsonrepair had to add closing brackets the text did not have
 * (`closedByRepair`), so a caller can refuse a cut text.
 *
 * used by: shared/parse/chain.ts (the floor step), tests/unit/parse/differential_test.ts (the oracle).
 */
import { jsonrepair } from "jsonrepair";
import { repeatsPropertyName } from "./_property_count.ts";
import { exceedsDepth } from "./_json_scan.ts";
import { MAX_REPAIR_CHARS } from "./repair.ts";
import { validateConversation } from "./validate.ts";
import type { Conversation } from "./schema.ts";

export type FloorReading =
  | {
    readonly ok: true;
    readonly conversation: Conversation;
    /** jsonrepair added closing brackets that the text did not have: the text was most likely cut. */
    readonly closedByRepair: boolean;
    /** Every string of the conversation occurs in the text as written (`readsVerbatim`). */
    readonly verbatim: boolean;
    /** The repaired JSON repeats a property name in one object: a value was silently dropped. */
    readonly repeatsName: boolean;
  }
  | { readonly ok: false };

const FENCE = /(?:```|~~~)[^\n`]*\n([\s\S]*?)(?:\n[ \t]*(?:```|~~~)|$)/;

/** Extraction only: the inside of a code fence, else the text from the first `{` to the last `}`. */
export function floorCandidate(text: string): string {
  const fence = FENCE.exec(text);
  const inside = fence === null ? text : fence[1];
  const trimmed = inside.trim();
  // A JSON string literal holding the document: jsonrepair reads it as a string, decoded below.
  if (trimmed.startsWith('"')) return trimmed;
  const first = inside.indexOf("{");
  const last = inside.lastIndexOf("}");
  if (first < 0) return trimmed;
  return last > first ? inside.slice(first, last + 1) : inside.slice(first);
}

/** `//` and `/* *\/` comments and whitespace at the end of `text`, removed (for the closer count). */
function withoutTrailingComments(text: string): string {
  let rest = text.trimEnd();
  for (;;) {
    if (rest.endsWith("*/")) {
      const open = rest.lastIndexOf("/*");
      if (open < 0) return rest;
      rest = rest.slice(0, open).trimEnd();
      continue;
    }
    const lineStart = rest.lastIndexOf("\n") + 1;
    const comment = rest.indexOf("//", lineStart);
    if (comment >= 0 && /^[\s}\],]*$/.test(rest.slice(lineStart, comment))) {
      rest = rest.slice(0, comment).trimEnd();
      continue;
    }
    return rest;
  }
}

/** How many `}` and `]` end `text`, counting through whitespace and commas. */
function trailingClosers(text: string): number {
  let count = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const char = text[i];
    if (char === "}" || char === "]") count++;
    else if (char !== "," && !/\s/.test(char)) break;
  }
  return count;
}

interface Read {
  readonly value: unknown;
  readonly closedByRepair: boolean;
  /** jsonrepair's output names a property twice in one object: JSON.parse kept only the last value. */
  readonly repeatsName: boolean;
}

function repairAndParse(text: string): Read | null {
  // The same bounds as the engine's own repair: no jsonrepair on deep nesting or on text over its limit.
  if (text.length > MAX_REPAIR_CHARS || exceedsDepth(text)) return null;
  try {
    const repaired = jsonrepair(text);
    const closedByRepair = trailingClosers(repaired) > trailingClosers(withoutTrailingComments(text));
    const value: unknown = JSON.parse(repaired);
    return { value, closedByRepair, repeatsName: repeatsPropertyName(repaired, value) };
  } catch {
    return null;
  }
}

/** Extraction, jsonrepair, one level of string decoding, the schema. Never throws. */
export function readFloor(text: string): FloorReading {
  let source = text;
  let read = repairAndParse(floorCandidate(text));
  if (read !== null && typeof read.value === "string") {
    source = read.value;
    read = repairAndParse(floorCandidate(source));
  }
  if (read === null) return { ok: false };
  const validation = validateConversation(read.value);
  if (!validation.ok) return { ok: false };
  const conversation = validation.conversation;
  return {
    ok: true,
    conversation,
    closedByRepair: read.closedByRepair,
    repeatsName: read.repeatsName,
    verbatim: readsVerbatim(conversation, source),
  };
}

/** A string as compared by `readsVerbatim`: escapes of quotes, backslashes and line breaks resolved. */
function unescaped(text: string): string {
  return text.replace(
    /\\(["'\\/]|n|t|r)/g,
    (_, char: string) => char === "n" ? "\n" : char === "t" ? "\t" : char === "r" ? "\r" : char,
  );
}

/**
 * Whether every string of `conversation` occurs in `text` as the model wrote it (escapes resolved on both
 * sides). jsonrepair reads some damage into altered strings (an apostrophe inside `‘…’` becomes a quote, a
 * string-encoded document keeps its backslashes); such a reading must not be accepted as the model's content.
 */
export function readsVerbatim(conversation: Conversation, text: string): boolean {
  const haystack = unescaped(text);
  const strings: string[] = Object.values(conversation.conversation_metadata);
  for (const turn of conversation.turns) {
    strings.push(turn.content, turn.emotional_context.primary_emotion);
    if (turn.emotional_context.secondary_emotion !== undefined) {
      strings.push(turn.emotional_context.secondary_emotion);
    }
  }
  return strings.every((value) => haystack.includes(unescaped(value)));
}
