import assert from "node:assert/strict";
import { buildFinalFile, personaLabel } from "../../../shared/parse_flow/final_file.ts";
import { makeConversation } from "../../fixtures/parse/samples.ts";
import { flowTest, NO_SCAFFOLDING, SCAFFOLDING } from "./_fakes.ts";

const conversation = makeConversation(3, { turns: 2 });

flowTest(
  "personaLabel() is 'Name - Archetype', the name alone without an archetype, null without a name",
  () => {
    assert.equal(personaLabel(SCAFFOLDING), "David Chen - The Pragmatic Optimist");
    assert.equal(personaLabel({ ...SCAFFOLDING, personaArchetype: "  " }), "David Chen");
    assert.equal(personaLabel({ ...SCAFFOLDING, personaName: null }), null);
    assert.equal(personaLabel(NO_SCAFFOLDING), null);
  },
);

flowTest("buildFinalFile() overwrites client_persona from the database and never alters the turns", () => {
  const final = buildFinalFile(conversation, SCAFFOLDING);
  assert.equal(final.personaSource, "database");
  assert.equal(final.document.conversation_metadata.client_persona, "David Chen - The Pragmatic Optimist");
  assert.notEqual(
    conversation.conversation_metadata.client_persona,
    final.conversationName,
    "fixture differs",
  );
  assert.deepEqual(final.document.turns, conversation.turns);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(final.bytes)), final.document);
  assert.deepEqual(Object.keys(final.document), [
    "conversation_metadata",
    "turns",
    "input_parameters",
    "provenance",
  ]);
});

flowTest(
  "buildFinalFile() writes the row's provenance: only a generated conversation is model output",
  () => {
    assert.deepEqual(
      buildFinalFile(conversation, { ...SCAFFOLDING, source: "generated" }).document.provenance,
      {
        source: "generated",
        model_output: true,
      },
    );
    assert.deepEqual(
      buildFinalFile(conversation, { ...NO_SCAFFOLDING, source: "uploaded" }).document.provenance,
      {
        source: "uploaded",
        model_output: false,
      },
    );
    assert.deepEqual(buildFinalFile(conversation, NO_SCAFFOLDING).document.provenance, {
      source: "unknown",
      model_output: false,
    });
  },
);

flowTest("buildFinalFile() keeps the model's label when there is no persona row, and caps the name", () => {
  const long = {
    ...conversation,
    conversation_metadata: { ...conversation.conversation_metadata, client_persona: "é".repeat(300) },
  };
  const final = buildFinalFile(long, NO_SCAFFOLDING);
  assert.equal(final.personaSource, "model");
  assert.equal(final.document.conversation_metadata.client_persona, "é".repeat(300));
  assert.equal([...final.conversationName].length, 255, "conversation_name is varchar(255)");
  assert.equal(final.document.input_parameters.training_topic_key, null);
});

flowTest(
  "buildFinalFile() leaves NUL characters out of conversation_name (PostgreSQL text cannot hold them)",
  () => {
    const nul = {
      ...conversation,
      conversation_metadata: { ...conversation.conversation_metadata, client_persona: "Ann\u0000 Lee" },
    };
    const final = buildFinalFile(nul, NO_SCAFFOLDING);
    assert.equal(final.conversationName, "Ann Lee");
    assert.equal(
      final.document.conversation_metadata.client_persona,
      "Ann\u0000 Lee",
      "the file keeps the text",
    );
  },
);
