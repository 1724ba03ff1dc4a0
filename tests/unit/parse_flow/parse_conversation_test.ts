import { InfraFailure } from "../../../shared/pipeline/failures.ts";
import assert from "node:assert/strict";
import { finalObjectPath } from "../../../shared/pipeline/object_paths.ts";
import { RUNBOOK_LINES, setLogSink } from "../../../shared/log.ts";
import { parseConversation } from "../../../shared/parse_flow/parse_conversation.ts";
import {
  fenced,
  makeConversation,
  render,
  textResponse,
  trailingCommas,
} from "../../fixtures/parse/samples.ts";
import {
  fakeDeps,
  FakeQueue,
  FakeStore,
  flowTest,
  NO_SCAFFOLDING,
  NOW,
  SCAFFOLDING,
  stored,
  USER,
} from "./_fakes.ts";

const ID = "0f3b1d6e-5c2a-4f7e-9b1d-2c3e4f5a6b7c";
// Seed 1 is "Alex Rivera - Mid-Career Professional": not the persona the request asked for (David Chen).
const conversation = makeConversation(1, { turns: 4 });
const clean = textResponse(JSON.stringify(conversation));

function captureLogs(): { lines: Record<string, unknown>[]; restore: () => void } {
  const lines: Record<string, unknown>[] = [];
  const prev = setLogSink((line) => lines.push(JSON.parse(line)));
  return { lines, restore: () => setLogSink(prev) };
}

flowTest(
  "parseConversation() stores the final file with input_parameters and the database's persona",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean);
    const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");

    const path = finalObjectPath(USER, ID);
    assert.deepEqual(result, {
      conversation_id: ID,
      result: "completed",
      attempt: 1,
      method: "direct",
      turn_count: 4,
      file_path: path,
    });
    const final = JSON.parse(store.text(path)!);
    assert.equal(final.conversation_metadata.client_persona, "David Chen - The Pragmatic Optimist");
    assert.equal(
      final.conversation_metadata.session_context,
      conversation.conversation_metadata.session_context,
    );
    assert.deepEqual(final.turns, conversation.turns);
    assert.deepEqual(final.input_parameters, {
      persona_id: SCAFFOLDING.personaId,
      persona_key: "pragmatic_optimist",
      persona_name: "David Chen",
      emotional_arc_id: SCAFFOLDING.emotionalArcId,
      emotional_arc_key: "shame_to_acceptance",
      emotional_arc_name: "Shame to Acceptance",
      training_topic_id: SCAFFOLDING.trainingTopicId,
      training_topic_key: "529_plans",
      training_topic_name: "529 Plans",
    });
    assert.deepEqual(store.uploads.at(-1), { path, upsert: true, contentType: "application/json" });

    const [done] = queue.completed;
    assert.equal(done.attempt, 1);
    assert.equal(done.method, "direct");
    assert.equal(done.turnCount, 4);
    assert.equal(done.filePath, path);
    assert.equal(done.fileSize, store.objects.get(path)!.byteLength);
    assert.equal(done.conversationName, "David Chen - The Pragmatic Optimist");
    assert.equal(done.triggeredBy, "trigger");
    assert.equal(done.now, NOW);
    assert.ok(done.durationMs > 0);
    assert.equal(queue.rows.get(ID)!.status, "completed");
  },
);

flowTest("parseConversation() logs the checklist's lines as JSON with the conversation id", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await stored(queue, store, ID, textResponse(fenced(JSON.stringify(conversation))));
  const logs = captureLogs();
  try {
    await parseConversation(fakeDeps(queue, store), ID, "sweeper");
  } finally {
    logs.restore();
  }
  const started = logs.lines.find((l) => l.event === "parse_started");
  const succeeded = logs.lines.find((l) => l.event === "parse_succeeded");
  assert.equal(started?.msg, RUNBOOK_LINES.parsing);
  assert.equal(started?.conversation_id, ID);
  assert.equal(succeeded?.msg, "[parseAndStoreFinal] ✅ Extracted parse succeeded");
  assert.equal(succeeded?.conversation_id, ID);
  assert.equal(succeeded?.method, "extracted");
});

flowTest(
  "parseConversation() records jsonrepair as the method for a damaged but complete response",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, textResponse(trailingCommas(render(conversation, true).text)));
    const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
    assert.equal(result.result, "completed");
    assert.equal(queue.completed[0].method, "jsonrepair");
    assert.ok(queue.completed[0].fixes.length > 0, "the repair is recorded in the attempts log");
  },
);

flowTest(
  "parseConversation() keeps the model's persona label for an orphan without scaffolding",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean, { scaffolding: NO_SCAFFOLDING });
    await parseConversation(fakeDeps(queue, store), ID, "sweeper");
    const final = JSON.parse(store.text(finalObjectPath(USER, ID))!);
    assert.equal(final.conversation_metadata.client_persona, "Alex Rivera - Mid-Career Professional");
    assert.equal(final.input_parameters.persona_id, null);
    assert.equal(queue.completed[0].conversationName, "Alex Rivera - Mid-Career Professional");
  },
);

flowTest("parseConversation() records the computed sha256 when generation could not", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await stored(queue, store, ID, clean, { sha: null });
  await parseConversation(fakeDeps(queue, store), ID, "trigger");
  assert.match(queue.completed[0].computedSha256 ?? "", /^[0-9a-f]{64}$/);
  assert.equal(queue.rows.get(ID)!.rawSha256, queue.completed[0].computedSha256);
});

flowTest(
  "parseConversation() sends a tampered raw object (sha256 mismatch) to review, never parsed",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean, { sha: "0".repeat(64) });
    const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
    assert.deepEqual(result, {
      conversation_id: ID,
      result: "parse_failed",
      attempt: 1,
      outcome: "failed",
      error_code: "raw_sha256_mismatch",
    });
    assert.equal(queue.failed[0].errorCode, "raw_sha256_mismatch");
    assert.equal(queue.failed[0].computedSha256, null, "the recorded sha256 is kept, not replaced");
    assert.equal(store.objects.has(finalObjectPath(USER, ID)), false);
    assert.equal(queue.completed.length, 0);
  },
);

flowTest("parseConversation() keeps a truncated response's partial conversation for review", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  const rendered = render(conversation, true);
  const cut = rendered.turnEnds[1] + 40;
  await stored(queue, store, ID, textResponse(rendered.text.slice(0, cut), { stopReason: "max_tokens" }));
  const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
  assert.equal(result.result, "parse_failed");
  const [failed] = queue.failed;
  assert.equal(failed.outcome, "partial");
  assert.equal(failed.truncated, true);
  assert.equal(failed.stopReason, "max_tokens");
  assert.match(failed.errorCode, /^truncated_/);
  const partial = failed.partialConversation as { turns: unknown[] };
  assert.deepEqual(partial.turns, conversation.turns.slice(0, 2), "only the complete turns, as written");
  assert.equal(store.objects.has(finalObjectPath(USER, ID)), false, "no final file for a partial result");
});

flowTest("parseConversation() sends a refusal to review with its code", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await stored(queue, store, ID, textResponse("I can't help with that.", { stopReason: "refusal" }));
  await parseConversation(fakeDeps(queue, store), ID, "trigger");
  assert.equal(queue.failed[0].outcome, "failed");
  assert.equal(queue.failed[0].errorCode, "refusal");
  assert.equal(queue.failed[0].partialConversation, null);
});

flowTest("parseConversation() sends a missing raw object to review", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  const row = await stored(queue, store, ID, clean);
  store.objects.delete(row.rawPath);
  const result = await parseConversation(fakeDeps(queue, store), ID, "sweeper");
  assert.equal(result.result, "parse_failed");
  assert.equal(queue.failed[0].errorCode, "raw_object_missing");
});

const infraCases: ReadonlyArray<[string, (q: FakeQueue, s: FakeStore) => void, string]> = [
  ["Storage unavailable on download", (_q, s) => (s.downloadFails = "unavailable"), "storage_unavailable"],
  ["the final upload failing", (_q, s) => (s.uploadFails = "unavailable"), "final_upload_failed"],
  ["the final upload rejected", (_q, s) => (s.uploadFails = "rejected"), "final_upload_failed"],
  [
    // The queue's adapter translates a lost connection at its edge (tests/unit/adapters/postgres_sql_test.ts).
    "a database error while writing the result",
    (q) => (q.failNext.finishCompleted = new InfraFailure("database_unavailable", "connection reset")),
    "database_unavailable",
  ],
  [
    "an unexpected error (a bug)",
    (q) => (q.failNext.finishCompleted = new TypeError("cannot read properties of undefined")),
    "internal",
  ],
];

for (const [name, arrange, code] of infraCases) {
  flowTest(`parseConversation() releases the claim with backoff on ${name}`, async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean);
    arrange(queue, store);
    const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
    assert.equal(result.result, "released");
    assert.equal(result.result === "released" && result.error_code, code);
    assert.equal(queue.released.length, 1);
    assert.equal(queue.released[0].errorCode, code);
    assert.equal(queue.failed.length, 0, "an infrastructure error never goes to review directly");
    assert.equal(queue.rows.get(ID)!.status, "raw_stored");
  });
}

flowTest(
  "parseConversation() releases when the parse engine throws (it must not, but a bug must not loop)",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean);
    const deps = fakeDeps(queue, store, {
      parse: () => {
        throw new RangeError("Maximum call stack size exceeded");
      },
    });
    const result = await parseConversation(deps, ID, "trigger");
    assert.equal(result.result === "released" && result.error_code, "internal");
  },
);

flowTest(
  "parseConversation() reports parse_failed when the SQL side gives up after too many failures",
  async () => {
    const queue = new FakeQueue();
    queue.maxInfraFailures = 1;
    const store = new FakeStore();
    await stored(queue, store, ID, clean);
    store.downloadFails = "unavailable";
    const result = await parseConversation(fakeDeps(queue, store), ID, "sweeper");
    assert.deepEqual(result, {
      conversation_id: ID,
      result: "parse_failed",
      attempt: 1,
      outcome: "gave_up",
      error_code: "parse_gave_up",
    });
  },
);

flowTest("parseConversation() skips a row it cannot claim and says why", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  queue.add(ID, null, SCAFFOLDING, "completed");
  assert.deepEqual(await parseConversation(fakeDeps(queue, store), ID, "trigger"), {
    conversation_id: ID,
    result: "skipped",
    reason: "not_claimable",
    status: "completed",
  });
  const unknown = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
  assert.deepEqual(await parseConversation(fakeDeps(queue, store), unknown, "trigger"), {
    conversation_id: unknown,
    result: "skipped",
    reason: "not_claimable",
    status: null,
  });
  assert.equal(store.uploads.length, 0);
});

flowTest(
  "parseConversation() answers error (and changes nothing) when the claim cannot reach the database",
  async () => {
    const queue = new FakeQueue();
    const store = new FakeStore();
    await stored(queue, store, ID, clean);
    queue.failNext.claim = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
    assert.deepEqual(result, { conversation_id: ID, result: "error", error_code: "database_unavailable" });
    assert.equal(queue.rows.get(ID)!.status, "raw_stored");
  },
);

flowTest("parseConversation() drops its result when its claim was taken over meanwhile", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await stored(queue, store, ID, clean);
  // Another worker takes the row over (as after an expired lease) while this one downloads and parses.
  queue.afterClaim = (row) => {
    row.attempts++;
  };
  const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
  assert.deepEqual(result, { conversation_id: ID, result: "skipped", reason: "lost_claim" });
  assert.equal(queue.completed.length, 0);
});

flowTest("parseConversation() answers error when even the release cannot reach the database", async () => {
  const queue = new FakeQueue();
  const store = new FakeStore();
  await stored(queue, store, ID, clean);
  store.downloadFails = "unavailable";
  queue.failNext.release = new Error("connection terminated");
  const result = await parseConversation(fakeDeps(queue, store), ID, "trigger");
  assert.deepEqual(result, { conversation_id: ID, result: "error", error_code: "database_unavailable" });
  assert.equal(queue.rows.get(ID)!.status, "parsing", "the lease runs out and the sweeper takes it over");
});
