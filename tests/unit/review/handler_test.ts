/**
 * The review-queue handler end to end over the in-memory world: every route, who may see what, the error
 * contract, and the point of the queue — a parser upgrade recovering old failures through retry-all.
 */
import assert from "node:assert/strict";
import { handleReviewQueue, parseErrorOf } from "../../../shared/review/handler.ts";
import { serveHandler } from "../../../shared/http/serve.ts";
import {
  ALICE,
  BOB,
  fakeJwt,
  NOW,
  OLD_VERSION,
  OPERATOR,
  PROSE_RAW,
  quietLogs,
  QUOTES_RAW,
  SERVICE_KEY,
  TRUNCATED_RAW,
  userToken,
  World,
} from "./_world.ts";
import { PARSER_VERSION, parseStoredResponse } from "../../../shared/parse/mod.ts";

quietLogs();

const BASE = "http://functions.test/functions/v1/review-queue";

type Json = Record<string, unknown> & { error?: { code: string; message: string; issues?: unknown[] } };

async function call(
  world: World,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const handler = serveHandler(handleReviewQueue(world.deps()), "review-queue");
  const res = await handler(
    new Request(`${BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  return { status: res.status, body: (await res.json()) as Json };
}

const alice = userToken(ALICE);
const bob = userToken(BOB);

const CORRECTED = {
  conversation_metadata: {
    client_persona: "whatever the model wrote",
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

// ===== authentication: the same 401 on every route =====

const ID = "5d7c1a2e-8f3b-4c6d-9e0a-1b2c3d4e5f60";
const everyRoute: ReadonlyArray<[string, string]> = [
  ["GET", ""],
  ["GET", `/${ID}`],
  ["POST", `/${ID}/retry`],
  ["POST", `/${ID}/resolve`],
  ["POST", `/${ID}/dismiss`],
  ["POST", "/retry-all"],
];

for (const [method, path] of everyRoute) {
  Deno.test(`review-queue ${method} ${path || "/"} without a token is 401 unauthorized`, async () => {
    const r = await call(new World(), method, path, null);
    assert.equal(r.status, 401);
    assert.equal(r.body.error?.code, "unauthorized");
  });
  Deno.test(`review-queue ${method} ${path || "/"} with an anon token is 401`, async () => {
    const r = await call(new World(), method, path, fakeJwt({ role: "anon" }));
    assert.equal(r.status, 401);
  });
}

// ===== GET list =====

Deno.test("GET list: a user sees only their own items, newest first", async () => {
  const w = new World();
  const a1 = await w.failedItem(ALICE, PROSE_RAW);
  const b1 = await w.failedItem(BOB, PROSE_RAW);
  const a2 = await w.failedItem(ALICE, QUOTES_RAW);
  const r = await call(w, "GET", "", alice);
  assert.equal(r.status, 200);
  const ids = (r.body.items as { conversation_id: string }[]).map((i) => i.conversation_id);
  assert.deepEqual(ids, [a2, a1]);
  assert.equal(r.body.total, 2);
  assert.equal(r.body.next_cursor, null);
  assert.ok(!ids.includes(b1));
});

Deno.test("GET list: the service role sees every user's items, or one user's with user_id", async () => {
  const w = new World();
  await w.failedItem(ALICE, PROSE_RAW);
  const b1 = await w.failedItem(BOB, PROSE_RAW);
  const all = await call(w, "GET", "", SERVICE_KEY);
  assert.equal(all.body.total, 2);
  const one = await call(w, "GET", `?user_id=${BOB}`, SERVICE_KEY);
  assert.deepEqual((one.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [b1]);
});

Deno.test("GET list: a user naming another user_id is 403", async () => {
  const r = await call(new World(), "GET", `?user_id=${BOB}`, alice);
  assert.equal(r.status, 403);
  assert.equal(r.body.error?.code, "forbidden");
});

Deno.test("GET list: status=failed and status=partial split the queue by truncation", async () => {
  const w = new World();
  const failed = await w.failedItem(ALICE, PROSE_RAW);
  const partial = await w.failedItem(ALICE, TRUNCATED_RAW, {
    parser: parseStoredResponse,
    version: PARSER_VERSION,
  });
  const f = await call(w, "GET", "?status=failed", alice);
  const p = await call(w, "GET", "?status=partial", alice);
  assert.deepEqual((f.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [failed]);
  assert.deepEqual(
    (p.body.items as { conversation_id: string; kind: string }[]).map((i) => i.conversation_id),
    [
      partial,
    ],
  );
  assert.equal((p.body.items as { kind: string }[])[0].kind, "partial");
});

Deno.test("GET list: error= finds a substring of parse_error_message, case-insensitive", async () => {
  const w = new World();
  const quotes = await w.failedItem(ALICE, QUOTES_RAW);
  await w.failedItem(ALICE, PROSE_RAW);
  const r = await call(w, "GET", "?error=EXPECTED%20','", alice);
  assert.deepEqual((r.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [quotes]);
  assert.equal((r.body.filters as { error: string }).error, "EXPECTED ','");
});

Deno.test("GET list: since= keeps items created at or after the time", async () => {
  const w = new World();
  await w.failedItem(ALICE, PROSE_RAW, { createdAt: "2025-11-20T08:00:00.000000Z" });
  const recent = await w.failedItem(ALICE, PROSE_RAW, { createdAt: "2025-11-21T08:00:00.000000Z" });
  const r = await call(w, "GET", "?since=2025-11-21T00:00:00Z", alice);
  assert.deepEqual((r.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [recent]);
});

Deno.test("GET list: the cursor pages through the queue without gaps or repeats, even within one microsecond", async () => {
  const w = new World();
  const ids: string[] = [];
  // Three items share one created_at: only the conversation_id tie-break orders them.
  for (let i = 0; i < 7; i++) {
    ids.push(
      await w.failedItem(ALICE, PROSE_RAW, { createdAt: i < 3 ? "2025-11-21T09:00:00.000001Z" : undefined }),
    );
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r: { status: number; body: Json } = await call(
      w,
      "GET",
      `?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
      alice,
    );
    assert.equal(r.status, 200);
    seen.push(...(r.body.items as { conversation_id: string }[]).map((i) => i.conversation_id));
    cursor = r.body.next_cursor as string | null;
    pages++;
  } while (cursor !== null && pages < 10);
  assert.equal(pages, 3);
  assert.equal(new Set(seen).size, 7);
  assert.deepEqual([...seen].sort(), [...ids].sort());
});

Deno.test("GET list: a cursor from another user's listing is refused (400), not reinterpreted", async () => {
  const w = new World();
  for (let i = 0; i < 3; i++) await w.failedItem(BOB, PROSE_RAW);
  const page = await call(w, "GET", "?limit=1", bob);
  const r = await call(w, "GET", `?limit=1&cursor=${page.body.next_cursor}`, alice);
  assert.equal(r.status, 400);
});

Deno.test("GET list: dismissed items leave the queue and show under status=dismissed", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  await call(w, "POST", `/${id}/dismiss`, alice, { reason: "test data" });
  assert.equal((await call(w, "GET", "", alice)).body.total, 0);
  const d = await call(w, "GET", "?status=dismissed", alice);
  assert.equal(d.body.total, 1);
  assert.equal((d.body.items as { dismissed_reason: string }[])[0].dismissed_reason, "test data");
});

// ===== GET one =====

Deno.test("GET one: the row, its attempts, the parse error and a fresh 300 s link to the raw object", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const r = await call(w, "GET", `/${id}`, alice);
  assert.equal(r.status, 200);
  const item = r.body.item as Record<string, unknown>;
  assert.equal(item.conversation_id, id);
  assert.equal(item.in_review, true);
  assert.equal(item.parser_version, OLD_VERSION);
  const attempts = r.body.attempts as { outcome: string; parser_version: string }[];
  assert.equal(attempts.length, 1);
  assert.equal(attempts[0].outcome, "failed");
  assert.deepEqual(r.body.parse_error, {
    code: "invalid_json",
    message: "Cannot parse JSON: expected ',' or '}' after property value at position 351",
  });
  const raw = r.body.raw as Record<string, unknown>;
  assert.equal(raw.available, true);
  assert.equal(raw.expires_in, 300);
  assert.match(String(raw.signed_url), new RegExp(`raw/${ALICE}/${id}\\.json\\?token=t&ttl=300$`));
  assert.equal(raw.expires_at, new Date(NOW.getTime() + 300_000).toISOString());
  assert.equal(raw.sha256, w.row(id).raw_sha256);
});

Deno.test("GET one: the signed URL is made per request and never stored on the row", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const before = JSON.stringify(w.row(id));
  await call(w, "GET", `/${id}`, alice);
  assert.equal(JSON.stringify(w.row(id)), before);
});

Deno.test("GET one: a truncated item carries its latest partial result", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, TRUNCATED_RAW, {
    parser: parseStoredResponse,
    version: PARSER_VERSION,
  });
  const r = await call(w, "GET", `/${id}`, alice);
  const partial = r.body.partial_result as { attempt_number: number; conversation: { turns: unknown[] } };
  assert.equal(partial.attempt_number, 1);
  assert.equal(partial.conversation.turns.length, 1, "only the complete first turn is kept");
  assert.equal((r.body.item as { kind: string }).kind, "partial");
});

Deno.test("GET one: another user's item is 404 with the same body as a missing one", async () => {
  const w = new World();
  const bobs = await w.failedItem(BOB, PROSE_RAW);
  const other = await call(w, "GET", `/${bobs}`, alice);
  const missing = await call(w, "GET", `/${ID}`, alice);
  assert.equal(other.status, 404);
  assert.equal(missing.status, 404);
  assert.equal(
    other.body.error?.message.replace(bobs, "<id>"),
    missing.body.error?.message.replace(ID, "<id>"),
  );
});

Deno.test("GET one: a raw object deleted by retention is reported, not signed", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  w.row(id).raw_deleted_at = "2025-11-21T11:00:00.000000Z";
  const r = await call(w, "GET", `/${id}`, alice);
  assert.deepEqual(r.body.raw, {
    available: false,
    reason: "deleted_by_retention",
    path: w.row(id).raw_response_path,
  });
});

Deno.test("GET one: Storage failing to sign still answers with the item (raw.available false)", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  w.storageDown = true;
  const r = await call(w, "GET", `/${id}`, alice);
  assert.equal(r.status, 200);
  assert.equal((r.body.raw as { reason: string }).reason, "signing_failed");
});

// ===== POST retry =====

Deno.test("POST retry: the current parser recovers an old failure (jsonrepair), through the parse flow's claim", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  const r = await call(w, "POST", `/${id}/retry`, alice);
  assert.equal(r.status, 200);
  assert.equal((r.body.result as { result: string }).result, "completed");
  assert.equal((r.body.result as { method: string }).method, "jsonrepair");
  const row = w.row(id);
  assert.equal(row.processing_status, "completed");
  assert.equal(row.requires_manual_review, false);
  assert.equal(row.parser_version, PARSER_VERSION);
  assert.equal(row.parse_attempts, 2);
  const last = w.attemptsOf(id).at(-1);
  assert.equal(last?.triggered_by, "review");
  assert.ok(w.objects.has(`${ALICE}/${id}/conversation.json`), "the final file is written by the parse flow");
  assert.equal((r.body.item as { in_review: boolean }).in_review, false);
});

Deno.test("POST retry: content that no parser can read goes back to review with the new version", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const r = await call(w, "POST", `/${id}/retry`, alice);
  assert.equal(r.status, 200);
  assert.equal((r.body.result as { result: string }).result, "parse_failed");
  assert.equal(w.row(id).processing_status, "parse_failed");
  assert.equal(w.row(id).requires_manual_review, true);
  assert.equal(w.row(id).parser_version, PARSER_VERSION);
  assert.equal(w.attemptsOf(id).length, 2);
});

Deno.test("POST retry: Storage down releases the claim for a later sweep (202)", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, QUOTES_RAW);
  w.storageDown = true;
  const r = await call(w, "POST", `/${id}/retry`, alice);
  assert.equal(r.status, 202);
  assert.equal((r.body.result as { result: string }).result, "released");
  assert.equal(w.row(id).processing_status, "raw_stored");
  assert.equal(w.row(id).requires_manual_review, true, "still flagged until a real outcome");
});

Deno.test("POST retry: refusals — another user's item 404, a completed one 409, a deleted raw 409", async () => {
  const w = new World();
  const bobs = await w.failedItem(BOB, QUOTES_RAW);
  assert.equal((await call(w, "POST", `/${bobs}/retry`, alice)).status, 404);
  assert.equal(w.row(bobs).processing_status, "parse_failed", "untouched");
  const done = await w.failedItem(ALICE, QUOTES_RAW);
  await call(w, "POST", `/${done}/retry`, alice);
  const again = await call(w, "POST", `/${done}/retry`, alice);
  assert.equal(again.status, 409);
  assert.equal(again.body.error?.code, "not_in_review");
  const gone = await w.failedItem(ALICE, QUOTES_RAW);
  w.row(gone).raw_deleted_at = "2025-11-21T11:00:00.000000Z";
  const g = await call(w, "POST", `/${gone}/retry`, alice);
  assert.equal(g.status, 409);
  assert.equal(g.body.error?.code, "conflict");
});

// ===== POST resolve =====

Deno.test("POST resolve: stores the final file with input_parameters, marks manual, records who and when", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const r = await call(w, "POST", `/${id}/resolve`, alice, {
    conversation: CORRECTED,
    notes: "rewrote from raw",
  });
  assert.equal(r.status, 200);
  const row = w.row(id);
  assert.equal(row.processing_status, "completed");
  assert.equal(row.parse_method_used, "manual");
  assert.equal(row.requires_manual_review, false);
  assert.equal(row.reviewed_by, ALICE);
  assert.equal(row.reviewed_at, "2025-11-21T12:00:00.000000Z");
  assert.equal(row.review_notes, "rewrote from raw");
  assert.equal(row.file_path, `${ALICE}/${id}/conversation.json`);
  const file = JSON.parse(new TextDecoder().decode(w.objects.get(row.file_path)));
  assert.equal(
    file.conversation_metadata.client_persona,
    "Jennifer Martinez - The Overwhelmed Avoider",
    "persona from the database, as the parse flow does",
  );
  assert.equal(file.input_parameters.training_topic_key, "credit_card_debt");
  assert.equal(file.turns.length, 2);
  const last = w.attemptsOf(id).at(-1);
  assert.deepEqual([last?.method, last?.outcome, last?.triggered_by], ["manual", "parsed", "manual"]);
  assert.ok(w.objects.has(row.raw_response_path ?? ""), "the raw object is kept");
  assert.equal((r.body.item as { parse_method_used: string }).parse_method_used, "manual");
});

Deno.test("POST resolve: schema errors are a 400 listing every field path", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const bad = structuredClone(CORRECTED) as { turns: Record<string, unknown>[] };
  bad.turns[1].role = "advisor";
  delete bad.turns[0].emotional_context;
  const r = await call(w, "POST", `/${id}/resolve`, alice, { conversation: bad });
  assert.equal(r.status, 400);
  assert.equal(r.body.error?.code, "invalid_body");
  const paths = (r.body.error?.issues as { path: string }[]).map((i) => i.path);
  assert.ok(paths.includes("conversation.turns[1].role"), paths.join());
  assert.ok(paths.includes("conversation.turns[0].emotional_context"), paths.join());
  assert.equal(w.row(id).processing_status, "parse_failed", "nothing changed");
  assert.ok(!w.objects.has(`${ALICE}/${id}/conversation.json`), "no final file written");
});

Deno.test("POST resolve: the service role names the operator; an unknown operator is 400", async () => {
  const w = new World();
  const id = await w.failedItem(BOB, PROSE_RAW);
  const unknown = await call(w, "POST", `/${id}/resolve`, SERVICE_KEY, {
    conversation: CORRECTED,
    reviewed_by: "99999999-0000-4000-8000-000000000000",
  });
  assert.equal(unknown.status, 400);
  const ok = await call(w, "POST", `/${id}/resolve`, SERVICE_KEY, {
    conversation: CORRECTED,
    reviewed_by: OPERATOR,
  });
  assert.equal(ok.status, 200);
  assert.equal(w.row(id).reviewed_by, OPERATOR);
});

Deno.test("POST resolve: a user cannot record someone else as the reviewer (403)", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const r = await call(w, "POST", `/${id}/resolve`, alice, {
    conversation: CORRECTED,
    reviewed_by: OPERATOR,
  });
  assert.equal(r.status, 403);
});

Deno.test("POST resolve: another user's item 404; a resolved item 409; Storage down 503 and nothing changes", async () => {
  const w = new World();
  const bobs = await w.failedItem(BOB, PROSE_RAW);
  assert.equal((await call(w, "POST", `/${bobs}/resolve`, alice, { conversation: CORRECTED })).status, 404);
  assert.ok(!w.objects.has(`${BOB}/${bobs}/conversation.json`));
  const mine = await w.failedItem(ALICE, PROSE_RAW);
  w.storageDown = true;
  const down = await call(w, "POST", `/${mine}/resolve`, alice, { conversation: CORRECTED });
  assert.equal(down.status, 503);
  assert.equal(w.row(mine).processing_status, "parse_failed");
  w.storageDown = false;
  assert.equal((await call(w, "POST", `/${mine}/resolve`, alice, { conversation: CORRECTED })).status, 200);
  const again = await call(w, "POST", `/${mine}/resolve`, alice, { conversation: CORRECTED });
  assert.equal(again.status, 409);
  assert.equal(again.body.error?.code, "not_in_review");
});

// ===== POST dismiss =====

Deno.test("POST dismiss: leaves the queue with a reason, keeps status and raw", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  const r = await call(w, "POST", `/${id}/dismiss`, alice, { reason: "duplicate request" });
  assert.equal(r.status, 200);
  const row = w.row(id);
  assert.equal(row.requires_manual_review, false);
  assert.equal(row.processing_status, "parse_failed");
  assert.equal(row.dismissed_reason, "duplicate request");
  assert.equal(row.dismissed_at, "2025-11-21T12:00:00.000000Z");
  assert.ok(w.objects.has(row.raw_response_path ?? ""));
});

Deno.test("POST dismiss: no reason 400; another user's 404; twice 409", async () => {
  const w = new World();
  const id = await w.failedItem(ALICE, PROSE_RAW);
  assert.equal((await call(w, "POST", `/${id}/dismiss`, alice, {})).status, 400);
  assert.equal((await call(w, "POST", `/${id}/dismiss`, bob, { reason: "x" })).status, 404);
  assert.equal(w.row(id).requires_manual_review, true);
  assert.equal((await call(w, "POST", `/${id}/dismiss`, alice, { reason: "x" })).status, 200);
  const again = await call(w, "POST", `/${id}/dismiss`, alice, { reason: "x" });
  assert.equal(again.status, 409);
  assert.equal((await call(w, "POST", `/${id}/retry`, alice)).status, 409, "a dismissed item is not retried");
});

// ===== POST retry-all =====

Deno.test("POST retry-all: a user is refused (403)", async () => {
  const r = await call(new World(), "POST", "/retry-all", alice, {});
  assert.equal(r.status, 403);
  assert.equal(r.body.error?.code, "forbidden");
});

Deno.test("POST retry-all: after a parser upgrade, old failures become completed; counts before and after", async () => {
  const w = new World();
  const recoverable = [
    await w.failedItem(ALICE, QUOTES_RAW),
    await w.failedItem(BOB, QUOTES_RAW),
    await w.failedItem(BOB, QUOTES_RAW),
  ];
  const hopeless = await w.failedItem(ALICE, PROSE_RAW);
  const dismissed = await w.failedItem(ALICE, QUOTES_RAW);
  await call(w, "POST", `/${dismissed}/dismiss`, alice, { reason: "not needed" });

  const dry = await call(w, "POST", "/retry-all", SERVICE_KEY, { dry_run: true });
  assert.equal(dry.status, 200);
  assert.equal((dry.body.candidates as { total: number }).total, 4);
  assert.equal(dry.body.processed, 0);
  assert.equal(w.row(recoverable[0]).processing_status, "parse_failed", "a dry run changes nothing");

  const r = await call(w, "POST", "/retry-all", SERVICE_KEY, {});
  assert.equal(r.status, 200);
  assert.equal(r.body.parser_version, PARSER_VERSION);
  assert.equal(r.body.processed, 4);
  assert.deepEqual(r.body.before, {
    total: 4,
    by_status: { parse_failed: 4 },
    by_method: { none: 4 },
    by_outcome: { failed: 4 },
    by_parser_version: { [OLD_VERSION]: 4 },
  });
  assert.deepEqual(r.body.after, {
    total: 4,
    by_status: { completed: 3, parse_failed: 1 },
    by_method: { jsonrepair: 3, none: 1 },
    by_outcome: { parsed: 3, failed: 1 },
    by_parser_version: { [PARSER_VERSION]: 4 },
  });
  assert.equal(r.body.remaining, 0);
  assert.equal(r.body.next_cursor, null);
  for (const id of recoverable) {
    assert.equal(w.row(id).processing_status, "completed");
    assert.equal(w.attemptsOf(id).at(-1)?.triggered_by, "retry_all");
  }
  assert.equal(w.row(hopeless).processing_status, "parse_failed");
  assert.equal(w.row(dismissed).processing_status, "parse_failed", "dismissed items are left alone");
  assert.equal(w.attemptsOf(dismissed).length, 1);

  const second = await call(w, "POST", "/retry-all", SERVICE_KEY, {});
  assert.equal(second.body.processed, 0, "the current parser already failed the rest: nothing to do");
  const forced = await call(w, "POST", "/retry-all", SERVICE_KEY, { force: true });
  assert.equal(forced.body.processed, 1, "force re-parses what the current version failed");
});

Deno.test("POST retry-all: invalid options are a 400", async () => {
  for (const body of [{ limit: 0 }, { batch_size: 1000 }, { since: "yesterday" }, { everything: true }]) {
    const r = await call(new World(), "POST", "/retry-all", SERVICE_KEY, body);
    assert.equal(r.status, 400, JSON.stringify(body));
  }
});

// ===== parse error extraction =====

Deno.test("parseErrorOf() splits `<code>: <message>` when no attempt carries the error", () => {
  const bundle = {
    item: { processing_status: "parse_failed", parse_error_message: "parse_gave_up: 10 attempts in a row" },
    attempts: [],
    partial: null,
  } as unknown as Parameters<typeof parseErrorOf>[0];
  assert.deepEqual(parseErrorOf(bundle), { code: "parse_gave_up", message: "10 attempts in a row" });
});

// ===== reviewers (app_metadata.role = reviewer) and the health route =====

const reviewer = fakeJwt({
  sub: OPERATOR,
  role: "authenticated",
  aud: "authenticated",
  exp: Math.floor(NOW.getTime() / 1000) + 3600,
  app_metadata: { provider: "email", role: "reviewer" },
});
/** user_metadata is the user's own to write: it must not grant anything. */
const selfStyled = fakeJwt({
  sub: BOB,
  role: "authenticated",
  aud: "authenticated",
  exp: Math.floor(NOW.getTime() / 1000) + 3600,
  user_metadata: { role: "reviewer" },
});

Deno.test("reviewer: lists every user's items, may filter by user_id, reads and dismisses another's item as themself", async () => {
  const w = new World();
  const a1 = await w.failedItem(ALICE, PROSE_RAW);
  const b1 = await w.failedItem(BOB, PROSE_RAW);
  const all = await call(w, "GET", "", reviewer);
  assert.equal(all.status, 200);
  assert.equal(all.body.total, 2);
  const one = await call(w, "GET", `?user_id=${ALICE}`, reviewer);
  assert.deepEqual((one.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [a1]);
  assert.equal((await call(w, "GET", `/${b1}`, reviewer)).status, 200);
  const d = await call(w, "POST", `/${b1}/dismiss`, reviewer, { reason: "duplicate" });
  assert.equal(d.status, 200);
  assert.equal((d.body.item as { reviewed_by: string }).reviewed_by, OPERATOR);
  const other = await call(w, "POST", `/${a1}/dismiss`, reviewer, { reason: "x", reviewed_by: ALICE });
  assert.equal(other.status, 403, "a reviewer cannot record someone else as the reviewer");
});

Deno.test("reviewer: retry-all stays service-only (403)", async () => {
  const r = await call(new World(), "POST", "/retry-all", reviewer, {});
  assert.equal(r.status, 403);
});

Deno.test("a user_metadata role grants nothing: the user still sees only their own items", async () => {
  const w = new World();
  await w.failedItem(ALICE, PROSE_RAW);
  const b1 = await w.failedItem(BOB, PROSE_RAW);
  const r = await call(w, "GET", "", selfStyled);
  assert.deepEqual((r.body.items as { conversation_id: string }[]).map((i) => i.conversation_id), [b1]);
  assert.equal((await call(w, "GET", "/health", selfStyled)).status, 403);
});

Deno.test("GET /health: 401 without a token, 403 for a plain user, the dry-run view for a reviewer and the service", async () => {
  const w = new World();
  await w.failedItem(ALICE, PROSE_RAW);
  assert.equal((await call(w, "GET", "/health", null)).status, 401);
  const plain = await call(w, "GET", "/health", alice);
  assert.equal(plain.status, 403);
  assert.equal(plain.body.error?.code, "forbidden");
  for (const token of [reviewer, SERVICE_KEY]) {
    const r = await call(w, "GET", "/health", token);
    assert.equal(r.status, 200);
    assert.equal(r.body.checked_at, NOW.toISOString());
    assert.ok(Array.isArray(r.body.rules) && Array.isArray(r.body.hourly));
    assert.deepEqual(r.body.alerts, { open: [], past: [] });
    assert.deepEqual(r.body.source_counts, [{
      source: "generated",
      status: "parse_failed",
      count: 1,
      in_review: 1,
    }]);
  }
  assert.equal(w.monitor.alerts.length, 0, "a dry run opens no alert");
  assert.equal((await call(w, "POST", "/health", reviewer)).status, 405);
});
