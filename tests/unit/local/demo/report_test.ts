import assert from "node:assert/strict";
import {
  type DemoOutcome,
  detailOf,
  formatDuration,
  formatNextSteps,
  formatOutcomeLine,
  formatResultsTable,
  formatStackUrls,
  isSettled,
  statusOf,
} from "../../../../local/demo/report.ts";
import { answer, completed, id, inReview, item, row } from "./_results.ts";

const CTX = {
  apiUrl: "http://127.0.0.1:54321",
  serviceKey: "service-key",
  dbUrl: "postgresql://postgres:postgres@127.0.0.1:54322/postgres",
  stateDir: "/tmp/stack",
  userId: "de300000-0000-4000-8000-000000000001",
};

function outcome(results: DemoOutcome["results"], over: Partial<DemoOutcome> = {}): DemoOutcome {
  return { results, elapsedMs: 9_400, timedOut: false, realClaude: false, behavior: "mixed", ...over };
}

Deno.test("formatDuration() shows milliseconds under a second, one decimal under ten, whole seconds above", () => {
  assert.equal(formatDuration(0.0412), "41 ms");
  assert.equal(formatDuration(1.44), "1.4 s");
  assert.equal(formatDuration(93.4), "93 s");
});

Deno.test("isSettled() waits for a terminal row, and not for a request that made no conversation", () => {
  assert.equal(isSettled(completed(1)), true);
  assert.equal(isSettled(inReview(2)), true);
  assert.equal(
    isSettled({ item: item(3), answer: null, row: row(3, { processing_status: "generating" }) }),
    false,
  );
  assert.equal(
    isSettled({ item: item(4), answer: answer(4), row: null }),
    false,
    "answered, row not read yet",
  );
  assert.equal(isSettled({ item: item(5), answer: null, row: null }), false, "not sent yet");
  const refused = answer(6, { status: 401, conversationId: null, errorCode: "unauthorized", message: "no" });
  assert.equal(isSettled({ item: item(6), answer: refused, row: null }), true);
});

Deno.test("statusOf() and detailOf() explain a request without a row", () => {
  const cases = [
    [{ item: item(1), answer: null, row: null }, "not sent", ""],
    [
      {
        item: item(2),
        answer: answer(2, { status: 0, conversationId: null, errorCode: "no_answer", message: "refused" }),
        row: null,
      },
      "no answer",
      "no_answer: refused",
    ],
    [
      {
        item: item(3),
        answer: answer(3, {
          status: 503,
          conversationId: null,
          errorCode: "upstream_unavailable",
          message: "down",
        }),
        row: null,
      },
      "http 503",
      "upstream_unavailable: down",
    ],
    [{ item: item(4), answer: answer(4), row: null }, "row missing", ""],
  ] as const;
  for (const [r, status, detail] of cases) {
    assert.equal(statusOf(r), status);
    assert.equal(detailOf(r), detail);
  }
});

Deno.test("detailOf() gives turns, the review reason (shortened) or the generation error", () => {
  assert.equal(detailOf(completed(1)), "8 turns");
  const review = detailOf(inReview(2));
  assert.ok(review.startsWith("in review: truncated_output: Cannot accept"), review);
  assert.ok([...review].length <= 60 && review.endsWith("…"), review);
  const failed = {
    item: item(3),
    answer: answer(3, { status: 502 }),
    row: row(3, {
      processing_status: "generation_failed",
      parse_method_used: null,
      generation_error: "529 overloaded",
    }),
  };
  assert.equal(detailOf(failed), "529 overloaded");
  assert.equal(
    detailOf({ item: item(4), answer: null, row: row(4, { processing_status: "parsing" }) }),
    "still in progress",
  );
});

Deno.test("formatResultsTable() lines up one row per conversation under the header, in batch order", () => {
  const text = formatResultsTable([completed(1), inReview(2), completed(3, "jsonrepair")]);
  const lines = text.split("\n");
  assert.equal(lines.length, 4);
  assert.equal(lines[0], `  #  CONVERSATION${" ".repeat(26)}STATUS        METHOD      TIME    DETAIL`);
  assert.equal(lines[1], `  1  ${id(1)}  completed     direct      350 ms  8 turns`);
  assert.ok(lines[2].startsWith(`  2  ${id(2)}  parse_failed  -           350 ms  in review: `), lines[2]);
  assert.equal(lines[3], `  3  ${id(3)}  completed     jsonrepair  350 ms  8 turns`);
  assert.ok(!text.includes("\x1b["), "no colour unless asked");
  assert.ok(
    formatResultsTable([completed(1)], { color: true }).includes("\x1b[32mcompleted"),
    "green when asked",
  );
});

Deno.test("formatOutcomeLine() counts statuses and parse methods, and the cost only for the real API", () => {
  const results = [completed(1), completed(2), completed(3, "jsonrepair"), inReview(4)];
  assert.equal(
    formatOutcomeLine(outcome(results)),
    "4 conversations in 9.4 s: 3 completed (2 direct, 1 jsonrepair), 1 in review",
  );
  const billed = results.map((r) => r.row ? { ...r, row: { ...r.row, cost_usd: 0.0331 } } : r);
  assert.match(formatOutcomeLine(outcome(billed, { realClaude: true })), /; estimated cost \$0\.1324$/);
  const one = formatOutcomeLine(outcome([{ item: item(1), answer: null, row: null }], { elapsedMs: 1000 }));
  assert.equal(one, "1 conversation in 1.0 s: 1 not sent");
});

Deno.test("formatNextSteps() points at the review queue, the rows still moving and the log", () => {
  assert.deepEqual(formatNextSteps(outcome([completed(1)]), CTX), [], "nothing to add when all completed");

  const review = formatNextSteps(outcome([completed(1), inReview(2)]), CTX).join("\n");
  assert.match(review, /1 conversation is in the review queue/);
  assert.ok(review.includes(`${CTX.apiUrl}/functions/v1/review-queue?user_id=${CTX.userId}`));
  assert.ok(review.includes("Authorization: Bearer service-key"));
  assert.ok(review.includes("deno task reparse --dry-run"));

  const moving = formatNextSteps(
    outcome([{ item: item(1), answer: null, row: row(1, { processing_status: "generating" }) }], {
      timedOut: true,
    }),
    CTX,
  ).join("\n");
  assert.match(moving, /1 conversation was still in progress when the wait ended \(--timeout\)/);
  assert.ok(moving.includes(`psql "${CTX.dbUrl}"`) && moving.includes(`'${id(1)}'`), moving);

  const refused = answer(2, { status: 500, conversationId: null, errorCode: "internal", message: "boom" });
  const lost = formatNextSteps(outcome([{ item: item(2), answer: refused, row: null }]), CTX).join("\n");
  assert.match(
    lost,
    /1 request got no conversation \(see DETAIL\); the function's side is in \/tmp\/stack\/gateway\.log/,
  );
});

Deno.test("formatStackUrls() prints the supabase start block and says when the stand-in is not used", () => {
  const env = {
    SUPABASE_URL: "http://127.0.0.1:54321",
    SUPABASE_DB_URL: "postgresql://db",
    SUPABASE_JWT_SECRET: "secret",
    SUPABASE_ANON_KEY: "anon",
    SUPABASE_SERVICE_ROLE_KEY: "service",
    SUPABASE_PUBLISHABLE_KEY: "sb_publishable_x",
    SUPABASE_SECRET_KEY: "sb_secret_x",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:54330",
  };
  const text = formatStackUrls(env, { stateDir: "/tmp/stack", realClaude: false });
  for (
    const line of [
      "         API URL: http://127.0.0.1:54321",
      "   Functions URL: http://127.0.0.1:54321/functions/v1",
      "     Storage URL: http://127.0.0.1:54321/storage/v1",
      "          DB URL: postgresql://db",
      "service_role key: service",
      "Claude stand-in URL: http://127.0.0.1:54330",
    ]
  ) assert.ok(text.split("\n").includes(line), line);
  assert.match(
    formatStackUrls(env, { stateDir: "/s", realClaude: true }),
    /not used: functions call the real API/,
  );
});
