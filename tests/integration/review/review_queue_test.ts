/**
 * The review-queue function against the local stack: every route through the gateway (verify_jwt on), real
 * Storage (signed URLs, final files), the real review and parse SQL, and the parse flow's claim. Each test makes
 * its own users and rows, and scopes service-role calls to those users, so it neither sees nor touches the rows
 * of other tests.
 */
import assert from "node:assert/strict";
import { sha256Hex } from "../../../shared/pipeline/sha256.ts";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";
import { createTestUser, serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";
import {
  attemptsOf,
  download,
  failedByOldParser,
  OLD_VERSION,
  proseRaw,
  quotesRaw,
  review,
  rowOf,
} from "./_review.ts";
import { runDeno } from "../../support/run_deno.ts";

const CORRECTED = {
  conversation_metadata: {
    client_persona: "a label the reviewer typed",
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
      content: "That is a heavy thing to carry alone, and you do not have to.",
      emotional_context: { primary_emotion: "empathy", intensity: 0.6 },
    },
  ],
};

function ids(answer: { body: Record<string, unknown> }): string[] {
  return (answer.body.items as { conversation_id: string }[]).map((i) => i.conversation_id);
}

stackTest("review-queue: every route answers 401 without a token (the platform's verify_jwt)", async () => {
  const id = crypto.randomUUID();
  for (
    const [method, path] of [
      ["GET", ""],
      ["GET", `/${id}`],
      ["POST", `/${id}/retry`],
      ["POST", `/${id}/resolve`],
      ["POST", `/${id}/dismiss`],
      ["POST", "/retry-all"],
    ]
  ) {
    const r = await review(method, path, null);
    assert.equal(r.status, 401, `${method} ${path}`);
  }
});

stackTest(
  "review-queue: list and detail are scoped to the caller; another user's item is a 404",
  async () => {
    const alice = await createTestUser();
    const bob = await createTestUser();
    const mine = await failedByOldParser(alice.id, proseRaw());
    const theirs = await failedByOldParser(bob.id, proseRaw());

    const list = await review("GET", "", alice.token);
    assert.equal(list.status, 200);
    assert.deepEqual(ids(list), [mine]);
    assert.equal(list.body.total, 1);

    const service = await review("GET", `?user_id=${bob.id}`, serviceKey());
    assert.deepEqual(ids(service), [theirs], "the service role reaches any user's queue");
    assert.equal((await review("GET", `?user_id=${bob.id}`, alice.token)).status, 403);

    const other = await review("GET", `/${theirs}`, alice.token);
    const missing = await review("GET", `/${crypto.randomUUID()}`, alice.token);
    assert.equal(other.status, 404);
    assert.equal(missing.status, 404);
    assert.equal(other.body.error?.code, missing.body.error?.code);

    // Every action on another user's item is a 404 and changes nothing.
    for (
      const [path, body] of [
        [`/${theirs}/retry`, undefined],
        [`/${theirs}/resolve`, { conversation: CORRECTED }],
        [`/${theirs}/dismiss`, { reason: "not mine" }],
      ] as const
    ) {
      const r = await review("POST", path, alice.token, body);
      assert.equal(r.status, 404, path);
    }
    const untouched = await rowOf(theirs);
    assert.equal(untouched.processing_status, "parse_failed");
    assert.equal(untouched.requires_manual_review, true);
    assert.equal((await attemptsOf(theirs)).length, 1);
  },
);

stackTest(
  "review-queue: GET one returns the attempts, the error and a working 300 s link to the raw bytes",
  async () => {
    const alice = await createTestUser();
    const raw = quotesRaw();
    const id = await failedByOldParser(alice.id, raw);
    const r = await review("GET", `/${id}`, alice.token);
    assert.equal(r.status, 200);
    const item = r.body.item as Record<string, unknown>;
    assert.equal(item.parser_version, OLD_VERSION);
    assert.equal(item.in_review, true);
    assert.equal((r.body.parse_error as { code: string }).code, "invalid_json");
    const attempts = r.body.attempts as { outcome: string; parser_version: string }[];
    assert.deepEqual(attempts.map((a) => [a.outcome, a.parser_version]), [["failed", OLD_VERSION]]);
    const link = r.body.raw as { available: boolean; signed_url: string; expires_in: number; sha256: string };
    assert.equal(link.available, true);
    assert.equal(link.expires_in, 300);
    const fetched = await fetch(link.signed_url);
    assert.equal(fetched.status, 200);
    const bytes = new Uint8Array(await fetched.arrayBuffer());
    assert.equal(
      await sha256Hex(bytes),
      await sha256Hex(raw),
      "the link serves the stored raw response verbatim",
    );
    assert.equal(link.sha256, await sha256Hex(raw));
    const [stored] = await sql()`
    select raw_response_url from public.conversations where conversation_id = ${id}`;
    assert.doesNotMatch(
      String(stored.raw_response_url),
      /token=|\/object\/sign\//,
      "the signed URL is never stored",
    );
  },
);

stackTest(
  "review-queue: POST retry re-parses with the current parser (jsonrepair) and completes the item",
  async () => {
    const alice = await createTestUser();
    const id = await failedByOldParser(alice.id, quotesRaw());
    const r = await review("POST", `/${id}/retry`, alice.token);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      [(r.body.result as { result: string }).result, (r.body.result as { method: string }).method],
      ["completed", "jsonrepair"],
    );
    const row = await rowOf(id);
    assert.equal(row.processing_status, "completed");
    assert.equal(row.requires_manual_review, false);
    assert.equal(row.parser_version, PARSER_VERSION);
    assert.deepEqual((await attemptsOf(id)).map((a) => a.triggered_by), ["trigger", "review"]);
    const file = await download(String(row.file_path));
    assert.ok(file, "the final file exists");
    assert.equal(JSON.parse(new TextDecoder().decode(file)).turns.length > 0, true);
    const again = await review("POST", `/${id}/retry`, alice.token);
    assert.equal(again.status, 409);
    assert.equal(again.body.error?.code, "not_in_review");
  },
);

stackTest(
  "review-queue: POST resolve validates, stores the final file, and records manual, who and when",
  async () => {
    const alice = await createTestUser();
    const id = await failedByOldParser(alice.id, proseRaw());

    const bad = structuredClone(CORRECTED) as { turns: Record<string, unknown>[] };
    bad.turns[1].role = "advisor";
    const invalid = await review("POST", `/${id}/resolve`, alice.token, { conversation: bad });
    assert.equal(invalid.status, 400);
    assert.deepEqual(invalid.body.error?.issues?.map((i) => i.path), ["conversation.turns[1].role"]);

    const r = await review("POST", `/${id}/resolve`, alice.token, {
      conversation: CORRECTED,
      notes: "typed from raw",
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const row = await rowOf(id);
    assert.equal(row.processing_status, "completed");
    assert.equal(row.parse_method_used, "manual");
    assert.equal(row.requires_manual_review, false);
    assert.equal(row.reviewed_by, alice.id);
    assert.equal(row.review_notes, "typed from raw");
    assert.equal(row.file_path, `${alice.id}/${id}/conversation.json`);
    const file = JSON.parse(new TextDecoder().decode((await download(String(row.file_path)))!));
    assert.notEqual(
      file.conversation_metadata.client_persona,
      "a label the reviewer typed",
      "persona from the database",
    );
    assert.ok(file.input_parameters.persona_id, "input_parameters from the database");
    assert.deepEqual((await attemptsOf(id)).at(-1), {
      outcome: "parsed",
      method: "manual",
      triggered_by: "manual",
    });
    assert.ok(await download(String(row.raw_response_path)), "the raw object is kept");
    assert.equal(
      (await review("POST", `/${id}/resolve`, alice.token, { conversation: CORRECTED })).status,
      409,
    );
  },
);

stackTest("review-queue: POST dismiss takes the item out with a reason and keeps the raw", async () => {
  const alice = await createTestUser();
  const id = await failedByOldParser(alice.id, proseRaw());
  assert.equal((await review("POST", `/${id}/dismiss`, alice.token, {})).status, 400);
  const r = await review("POST", `/${id}/dismiss`, alice.token, { reason: "test data from a load run" });
  assert.equal(r.status, 200);
  const row = await rowOf(id);
  assert.equal(row.processing_status, "parse_failed");
  assert.equal(row.requires_manual_review, false);
  assert.equal(row.dismissed_reason, "test data from a load run");
  assert.ok(await download(String(row.raw_response_path)));
  assert.deepEqual(ids(await review("GET", "", alice.token)), []);
  assert.deepEqual(ids(await review("GET", "?status=dismissed", alice.token)), [id]);
  assert.equal((await review("POST", `/${id}/retry`, alice.token)).status, 409);
  assert.equal((await review("POST", `/${id}/dismiss`, alice.token, { reason: "again" })).status, 409);
});

stackTest(
  "review-queue: retry-all after a parser upgrade turns the old failures into completed",
  async () => {
    const alice = await createTestUser();
    const recoverable = [
      await failedByOldParser(alice.id, quotesRaw()),
      await failedByOldParser(alice.id, quotesRaw()),
    ];
    const hopeless = await failedByOldParser(alice.id, proseRaw());

    assert.equal((await review("POST", "/retry-all", alice.token, {})).status, 403, "users may not run it");

    const dry = await review("POST", "/retry-all", serviceKey(), { user_id: alice.id, dry_run: true });
    assert.equal(dry.status, 200);
    assert.deepEqual((dry.body.candidates as { by_parser_version: unknown }).by_parser_version, {
      [OLD_VERSION]: 3,
    });

    const r = await review("POST", "/retry-all", serviceKey(), { user_id: alice.id, batch_size: 2 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.processed, 3);
    assert.deepEqual((r.body.before as { by_status: unknown }).by_status, { parse_failed: 3 });
    assert.deepEqual((r.body.after as { by_status: unknown }).by_status, { completed: 2, parse_failed: 1 });
    assert.deepEqual((r.body.after as { by_method: unknown }).by_method, { jsonrepair: 2, none: 1 });
    assert.equal(r.body.next_cursor, null);
    for (const id of recoverable) {
      assert.equal((await rowOf(id)).processing_status, "completed");
      assert.equal((await attemptsOf(id)).at(-1)?.triggered_by, "retry_all");
    }
    const still = await rowOf(hopeless);
    assert.deepEqual([still.processing_status, still.parser_version], ["parse_failed", PARSER_VERSION]);
    const second = await review("POST", "/retry-all", serviceKey(), { user_id: alice.id });
    assert.equal(second.body.processed, 0, "the current version already failed the rest");
  },
);

stackTest(
  "deno task reparse: drains one user's queue through the function and prints plain progress lines",
  async () => {
    const alice = await createTestUser();
    for (let i = 0; i < 3; i++) await failedByOldParser(alice.id, quotesRaw());
    const env = stackEnv();
    const { code, stdout, stderr } = await runDeno(
      ["run", "-A", "cli/reparse.ts", "--user", alice.id, "--limit", "2", "--batch-size", "1"],
      { env: { SUPABASE_URL: env.SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: env.SUPABASE_SERVICE_ROLE_KEY } },
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^reparse: call 1: 2\/3 re-parsed \(completed 2\), 1 left$/m);
    assert.match(stdout, /^reparse: call 2: 3\/3 re-parsed \(completed 1\), 0 left$/m);
    assert.match(stdout, /after: {2}completed 3; method jsonrepair 3/);
    assert.doesNotMatch(stdout, /\r/, "no progress bar when stdout is not a terminal");
  },
);
