/**
 * The final file `{user_id}/{conversation_id}/conversation.json`: the parsed conversation plus `input_parameters`
 * from the database, with `client_persona` taken from the persona row ("Name - Archetype").
 *
 * Why the database wins: upstream saw Claude invent "Marcus Chen" for a "David Chen" request (persona mismatch,
 * seed-origin.md §5); the scaffolding rows are what the request asked for, the model's label is only a guess.
 * An orphaned raw object (no scaffolding row) keeps the model's label, and `input_parameters` holds nulls.
 * `provenance` says where the conversation came from (conversations.source): only `generated` is model output;
 * a user's upload says `uploaded` (docs/SECURITY.md, "Provenance").
 */
import type { Conversation } from "../parse/mod.ts";
import type { Scaffolding } from "./parse_queue.ts";
import type { ConversationSource } from "../provenance.ts";
import type { ObjectStore } from "../pipeline/object_store.ts";
import { finalObjectPath } from "../pipeline/object_paths.ts";

export interface InputParameters {
  persona_id: string | null;
  persona_key: string | null;
  persona_name: string | null;
  emotional_arc_id: string | null;
  emotional_arc_key: string | null;
  emotional_arc_name: string | null;
  training_topic_id: string | null;
  training_topic_key: string | null;
  training_topic_name: string | null;
}

/** Where the conversation came from, for whoever builds a training set from these files. */
export interface Provenance {
  source: ConversationSource | "unknown";
  /** True only for `generated`: Claude's answer to our own prompt. */
  model_output: boolean;
}

export interface FinalFile {
  readonly document: Conversation & { input_parameters: InputParameters; provenance: Provenance };
  /** Pretty-printed UTF-8 JSON, as upstream stored it. */
  readonly bytes: Uint8Array;
  /** `conversations.conversation_name`: the client persona label. */
  readonly conversationName: string;
  /** Where `client_persona` came from. */
  readonly personaSource: "database" | "model";
}

/** "Name - Archetype" from the persona row; the name alone when the archetype is missing; null without a name. */
export function personaLabel(s: Scaffolding): string | null {
  const name = s.personaName?.trim();
  if (!name) return null;
  const archetype = s.personaArchetype?.trim();
  return archetype ? `${name} - ${archetype}` : name;
}

/**
 * The scaffolding row's ids, keys and names under the final file's snake_case names, copied as they are (null
 * stays null: an orphaned raw object has no scaffolding).
 */
export function inputParameters(s: Scaffolding): InputParameters {
  return {
    persona_id: s.personaId,
    persona_key: s.personaKey,
    persona_name: s.personaName,
    emotional_arc_id: s.emotionalArcId,
    emotional_arc_key: s.emotionalArcKey,
    emotional_arc_name: s.emotionalArcName,
    training_topic_id: s.trainingTopicId,
    training_topic_key: s.trainingTopicKey,
    training_topic_name: s.trainingTopicName,
  };
}

/**
 * The final file for a parsed conversation. `client_persona` is the persona row's label when there is one (the
 * model's guess otherwise, `personaSource` says which); `provenance.model_output` is true only for source
 * `generated`, and an unknown source is written `unknown`, never guessed. `conversationName` fits the column:
 * at most 255 code points, no U+0000. Turns are copied unchanged. Pure: no I/O.
 */
export function buildFinalFile(conversation: Conversation, scaffolding: Scaffolding): FinalFile {
  const label = personaLabel(scaffolding);
  const clientPersona = label ?? conversation.conversation_metadata.client_persona;
  const document = {
    conversation_metadata: { ...conversation.conversation_metadata, client_persona: clientPersona },
    turns: conversation.turns,
    input_parameters: inputParameters(scaffolding),
    provenance: {
      source: scaffolding.source ?? "unknown",
      model_output: scaffolding.source === "generated",
    } satisfies Provenance,
  };
  return {
    document,
    bytes: new TextEncoder().encode(JSON.stringify(document, null, 2)),
    // conversation_name is varchar(255): a model-written label could be longer. PostgreSQL text cannot hold
    // U+0000, which a model-written (or reviewer-sent) label may contain: the column gets the label without it.
    conversationName: Array.from(clientPersona.replaceAll("\u0000", "")).slice(0, 255).join(""),
    personaSource: label ? "database" : "model",
  };
}

/** Whose final file to write: the row's owner, its id and the scaffolding its `input_parameters` come from. */
export interface FinalFileTarget {
  readonly userId: string;
  readonly conversationId: string;
  readonly scaffolding: Scaffolding;
}

/** The file is in Storage at `path`; or Storage did not take it (`detail` says why, for the caller's message). */
export type FinalFileWrite =
  | { readonly ok: true; readonly path: string; readonly final: FinalFile }
  | { readonly ok: false; readonly path: string; readonly detail: string };

/**
 * The one writer of final files, for the parse flow and for a reviewer's resolve: builds the file and uploads it
 * to `finalObjectPath` with upsert (the file is derived data: a re-parse, a worker that lost its lease or a
 * resolve sent again rewrites the same file). Never throws for a Storage failure: each caller maps it to its own
 * failure (the parse flow releases the claim, review answers 503).
 */
export async function writeFinalFile(
  store: ObjectStore,
  target: FinalFileTarget,
  conversation: Conversation,
): Promise<FinalFileWrite> {
  const final = buildFinalFile(conversation, target.scaffolding);
  const path = finalObjectPath(target.userId, target.conversationId);
  const upload = await store.upload(path, final.bytes, { upsert: true, contentType: "application/json" });
  if (upload.ok) return { ok: true, path, final };
  return { ok: false, path, detail: upload.kind === "exists" ? "it already exists" : upload.message };
}
