import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { fieldPath, parseResolveRequest } from "../../../shared/review/resolve_request.ts";

const conversation = {
  conversation_metadata: {
    client_persona: "Jennifer Martinez - The Overwhelmed Avoider",
    session_context: "Credit card debt hidden from friends",
    conversation_phase: "crisis_stabilization",
  },
  turns: [
    {
      turn_number: 1,
      role: "user",
      content: 'I feel "left out" when friends plan trips.',
      emotional_context: { primary_emotion: "shame", intensity: 0.8 },
    },
    {
      turn_number: 2,
      role: "assistant",
      content: "That is a heavy thing to carry alone.",
      emotional_context: { primary_emotion: "empathy", intensity: 0.6 },
    },
  ],
};

function issuesOf(body: unknown): { path: string; message: string }[] {
  try {
    parseResolveRequest(body);
  } catch (e) {
    if (e instanceof AppError && e.code === "invalid_body") {
      return (e.details?.issues as { path: string; message: string }[] | undefined) ?? [];
    }
    throw e;
  }
  throw new Error("expected a 400");
}

Deno.test("parseResolveRequest() accepts a valid conversation with notes", () => {
  const r = parseResolveRequest({ conversation, notes: "  escaped the quotes  " });
  assert.equal(r.conversation.turns.length, 2);
  assert.equal(r.notes, "escaped the quotes");
  assert.equal(r.reviewedBy, null);
});

Deno.test("parseResolveRequest() applies the parse engine's coercions (numeric strings, null optionals)", () => {
  const copy = structuredClone(conversation) as { turns: { emotional_context: Record<string, unknown> }[] };
  copy.turns[0].emotional_context.intensity = "0.8";
  copy.turns[0].emotional_context.secondary_emotion = null;
  const r = parseResolveRequest({ conversation: copy });
  assert.equal(r.conversation.turns[0].emotional_context.intensity, 0.8);
  assert.equal("secondary_emotion" in r.conversation.turns[0].emotional_context, false);
});

Deno.test("parseResolveRequest() reports every schema problem with its field path", () => {
  const bad = structuredClone(conversation) as Record<string, unknown> & { turns: Record<string, unknown>[] };
  bad.turns[1].role = "user";
  (bad.turns[0].emotional_context as Record<string, unknown>).intensity = 3;
  delete (bad.conversation_metadata as Record<string, unknown>).session_context;
  const issues = issuesOf({ conversation: bad });
  const paths = issues.map((i) => i.path);
  assert.ok(paths.includes("conversation.conversation_metadata.session_context"), paths.join(", "));
  assert.ok(paths.includes("conversation.turns[0].emotional_context.intensity"), paths.join(", "));
  assert.ok(paths.includes("conversation.turns[1].role"), paths.join(", "));
  assert.ok(issues.every((i) => i.message.length > 0));
});

Deno.test("parseResolveRequest() refuses a conversation ending with a user turn (the schema's own rule)", () => {
  const bad = structuredClone(conversation);
  bad.turns.pop();
  assert.ok(issuesOf({ conversation: bad }).length > 0);
});

const envelopes: ReadonlyArray<[string, unknown]> = [
  ["no conversation", { notes: "x" }],
  ["an unknown field", { conversation, approve: true }],
  ["notes over 2000 characters", { conversation, notes: "x".repeat(2001) }],
  ["notes with a NUL character (PostgreSQL text cannot hold it)", { conversation, notes: "a\u0000b" }],
  ["a reviewed_by that is not a uuid", { conversation, reviewed_by: "ops" }],
  ["an array body", [conversation]],
];

for (const [name, body] of envelopes) {
  Deno.test(`parseResolveRequest() refuses ${name} with invalid_body`, () => {
    assert.throws(
      () => parseResolveRequest(body),
      (e: unknown) => e instanceof AppError && e.code === "invalid_body",
    );
  });
}

Deno.test("fieldPath() writes indexes in brackets under `conversation`", () => {
  assert.equal(fieldPath([]), "conversation");
  assert.equal(fieldPath(["turns", 3, "role"]), "conversation.turns[3].role");
});
