import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { decodeCursor, encodeCursor, fingerprint } from "../../../shared/review/cursor.ts";

const POSITION = {
  createdAt: "2025-11-21T10:00:00.123456Z",
  conversationId: "5d7c1a2e-8f3b-4c6d-9e0a-1b2c3d4e5f60",
};
const TAG = fingerprint(["all", null, null, null]);

function isBadRequest(e: unknown): boolean {
  return e instanceof AppError && e.code === "bad_request";
}

Deno.test("encodeCursor()/decodeCursor() round-trip the position with microseconds", () => {
  const cursor = encodeCursor(POSITION, TAG);
  assert.match(cursor, /^[A-Za-z0-9_-]+$/, "URL-safe without escaping");
  assert.deepEqual(decodeCursor(cursor, TAG), POSITION);
});

Deno.test("decodeCursor() refuses a cursor made for other filters", () => {
  const cursor = encodeCursor(POSITION, fingerprint(["failed", null, null, null]));
  assert.throws(
    () => decodeCursor(cursor, TAG),
    (e: unknown) => isBadRequest(e) && /other filters/.test(String(e)),
  );
});

const garbage: ReadonlyArray<[string, string]> = [
  ["not base64", "%%%"],
  ["base64 of non-JSON", btoa("hello")],
  [
    "JSON of another shape",
    btoa(JSON.stringify({ v: 1, t: "yesterday", id: "x", f: TAG })).replace(/=+$/, ""),
  ],
  [
    "a millisecond timestamp",
    btoa(JSON.stringify({ v: 1, t: "2025-11-21T10:00:00.123Z", id: POSITION.conversationId, f: TAG }))
      .replace(/=+$/, ""),
  ],
  ["an over-long value", "A".repeat(600)],
];

for (const [name, cursor] of garbage) {
  Deno.test(`decodeCursor() refuses ${name} with a 400`, () => {
    assert.throws(() => decodeCursor(cursor, TAG), isBadRequest);
  });
}

Deno.test("fingerprint() is stable and tells filters apart", () => {
  assert.equal(fingerprint(["all", null]), fingerprint(["all", null]));
  assert.notEqual(fingerprint(["all", null]), fingerprint(["all", "x"]));
  assert.notEqual(fingerprint([true]), fingerprint(["true"]));
});
