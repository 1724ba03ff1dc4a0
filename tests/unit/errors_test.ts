import assert from "node:assert/strict";
import { AppError, appError, ERROR_STATUS } from "../../shared/errors.ts";

Deno.test("every error code maps to a 4xx or 5xx status, and codes are snake_case", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
    assert.ok(status >= 400 && status <= 599, `${code} → ${status}`);
  }
});

Deno.test("appError keeps code, message and details, and its status comes from the table", () => {
  const err = appError("rate_limited", "Slow down", { retry_after_seconds: 7 });
  assert.ok(err instanceof AppError);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "AppError");
  assert.equal(err.code, "rate_limited");
  assert.equal(err.message, "Slow down");
  assert.deepEqual(err.details, { retry_after_seconds: 7 });
  assert.equal(err.status, 429);
  assert.equal(appError("not_in_review", "x").status, 409);
  assert.equal(appError("internal", "x").details, undefined);
});
