import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { matchRoute } from "../../../shared/review/routes.ts";

const ID = "5d7c1a2e-8f3b-4c6d-9e0a-1b2c3d4e5f60";

const cases: ReadonlyArray<[string, string, string, unknown]> = [
  ["the list, hosted path", "GET", "/review-queue", { kind: "list" }],
  ["the list, gateway path", "GET", "/functions/v1/review-queue", { kind: "list" }],
  ["a trailing slash", "GET", "/functions/v1/review-queue/", { kind: "list" }],
  ["one item", "GET", `/review-queue/${ID}`, { kind: "get", conversationId: ID }],
  ["an upper-case id, normalised", "GET", `/review-queue/${ID.toUpperCase()}`, {
    kind: "get",
    conversationId: ID,
  }],
  ["retry", "POST", `/functions/v1/review-queue/${ID}/retry`, { kind: "retry", conversationId: ID }],
  ["resolve", "POST", `/review-queue/${ID}/resolve`, { kind: "resolve", conversationId: ID }],
  ["dismiss", "POST", `/review-queue/${ID}/dismiss`, { kind: "dismiss", conversationId: ID }],
  ["retry-all", "POST", "/functions/v1/review-queue/retry-all", { kind: "retry_all" }],
];

for (const [name, method, path, expected] of cases) {
  Deno.test(`matchRoute() routes ${name}`, () => {
    assert.deepEqual(matchRoute(method, path), expected);
  });
}

const errors: ReadonlyArray<[string, string, string, string]> = [
  ["POST on the list", "POST", "/review-queue", "method_not_allowed"],
  ["GET on retry", "GET", `/review-queue/${ID}/retry`, "method_not_allowed"],
  ["GET on retry-all", "GET", "/review-queue/retry-all", "method_not_allowed"],
  ["DELETE on an item", "DELETE", `/review-queue/${ID}`, "method_not_allowed"],
  ["an unknown action", "POST", `/review-queue/${ID}/approve`, "not_found"],
  ["a deeper path", "POST", `/review-queue/${ID}/retry/now`, "not_found"],
  ["an id that is not a uuid", "GET", "/review-queue/12345", "bad_request"],
  ["an id with a path trick", "GET", "/review-queue/..%2f..%2fetc", "bad_request"],
];

for (const [name, method, path, code] of errors) {
  Deno.test(`matchRoute() refuses ${name} with ${code}`, () => {
    assert.throws(() => matchRoute(method, path), (e: unknown) => e instanceof AppError && e.code === code);
  });
}

Deno.test("matchRoute() names the allowed verb for a 405", () => {
  assert.throws(
    () => matchRoute("GET", `/review-queue/${ID}/resolve`),
    (e: unknown) => e instanceof AppError && e.details?.allow === "POST",
  );
});
