import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { encodeCursor } from "../../../shared/review/cursor.ts";
import {
  DEFAULT_LIMIT,
  escapeLikePattern,
  parseListQuery,
  type Scope,
} from "../../../shared/review/list_query.ts";

const ALICE = "a11ce000-0000-4000-8000-000000000001";
const BOB = "b0b00000-0000-4000-8000-000000000002";
const USER: Scope = { kind: "user", userId: ALICE };
const SERVICE: Scope = { kind: "service" };

function q(query: string, scope: Scope = USER) {
  return parseListQuery(new URLSearchParams(query), scope);
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : "not an AppError";
  }
  return undefined;
}

Deno.test("parseListQuery() defaults: everything in review, newest first, 25 per page, own items", () => {
  const query = q("");
  assert.equal(query.status, "all");
  assert.equal(query.limit, DEFAULT_LIMIT);
  assert.equal(query.userId, ALICE);
  assert.equal(query.since, null);
  assert.equal(query.after, null);
  assert.equal(query.errorLike, null);
});

Deno.test("parseListQuery() reads every filter", () => {
  const query = q("status=partial&since=2025-11-20T00:00:00%2B02:00&error=Unterminated&limit=5");
  assert.equal(query.status, "partial");
  assert.equal(query.since?.toISOString(), "2025-11-19T22:00:00.000Z");
  assert.equal(query.errorText, "Unterminated");
  assert.equal(query.errorLike, "%Unterminated%");
  assert.equal(query.limit, 5);
});

Deno.test("parseListQuery() lets the service role see everyone, or one user", () => {
  assert.equal(q("", SERVICE).userId, null);
  assert.equal(q(`user_id=${BOB}`, SERVICE).userId, BOB);
});

Deno.test("parseListQuery() refuses a user asking for another user's items (403)", () => {
  assert.equal(code(() => q(`user_id=${BOB}`)), "forbidden");
  assert.equal(q(`user_id=${ALICE}`).userId, ALICE, "naming yourself is allowed");
});

const invalid: ReadonlyArray<[string, string]> = [
  ["an unknown parameter (a typo must not list everything)", "stauts=failed"],
  ["a parameter given twice", "status=failed&status=partial"],
  ["an unknown status", "status=done"],
  ["a date without an offset", "since=2025-11-20T00:00:00"],
  ["a date that is not a date", "since=yesterday"],
  ["limit 0", "limit=0"],
  ["limit over 100", "limit=101"],
  ["a fractional limit", "limit=2.5"],
  ["an empty error pattern", "error=%20%20"],
  ["an error pattern over 200 characters", `error=${"x".repeat(201)}`],
  ["an error pattern with a NUL character (PostgreSQL text cannot hold it)", "error=a%00b"],
  ["a user_id that is not a uuid", "user_id=me"],
  ["a garbage cursor", "cursor=abc"],
];

for (const [name, query] of invalid) {
  Deno.test(`parseListQuery() refuses ${name} with 400`, () => {
    assert.equal(code(() => q(query, SERVICE)), "bad_request");
  });
}

Deno.test("parseListQuery() accepts a cursor made for the same filters only", () => {
  const first = q("status=failed&limit=2");
  const cursor = encodeCursor(
    { createdAt: "2025-11-21T10:00:00.000001Z", conversationId: BOB },
    first.fingerprint,
  );
  assert.deepEqual(q(`status=failed&limit=2&cursor=${cursor}`).after, {
    createdAt: "2025-11-21T10:00:00.000001Z",
    conversationId: BOB,
  });
  assert.equal(code(() => q(`status=partial&cursor=${cursor}`)), "bad_request");
  assert.equal(
    code(() => q(`status=failed&cursor=${cursor}`, SERVICE)),
    "bad_request",
    "scope is a filter too",
  );
});

Deno.test("escapeLikePattern() makes %, _ and the escape character literal", () => {
  assert.equal(escapeLikePattern("50%_off\\"), "50\\%\\_off\\\\");
  assert.equal(escapeLikePattern("position 8517"), "position 8517");
  assert.equal(q("error=100%25").errorLike, "%100\\%%");
});
