import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { parseDismissRequest } from "../../../shared/review/dismiss_request.ts";

Deno.test("parseDismissRequest() trims the reason and reads an optional reviewer", () => {
  assert.deepEqual(parseDismissRequest({ reason: "  duplicate of 42  " }), {
    reason: "duplicate of 42",
    reviewedBy: null,
  });
  const op = "0E0E0E0E-0000-4000-8000-000000000003";
  assert.equal(parseDismissRequest({ reason: "x", reviewed_by: op }).reviewedBy, op.toLowerCase());
});

const invalid: ReadonlyArray<[string, unknown]> = [
  ["no reason", {}],
  ["a blank reason", { reason: "   " }],
  ["a reason over 500 characters", { reason: "x".repeat(501) }],
  ["a reason with a NUL character (PostgreSQL text cannot hold it)", { reason: "dup\u0000licate" }],
  ["an unknown field", { reason: "x", delete_raw: true }],
  ["a non-object body", "dismiss"],
];

for (const [name, body] of invalid) {
  Deno.test(`parseDismissRequest() refuses ${name} with invalid_body`, () => {
    assert.throws(
      () => parseDismissRequest(body),
      (e: unknown) => e instanceof AppError && e.code === "invalid_body",
    );
  });
}
