import assert from "node:assert/strict";
import {
  GAVE_UP_CODE,
  INFRA_FAILURE_CODES,
  infraCodeOf,
  InfraFailure,
  isUnavailable,
  PIPELINE_CONTENT_CODES,
} from "../../../shared/pipeline/failures.ts";
import { PARSE_ERROR_CODES } from "../../../shared/parse/result.ts";

Deno.test("failure codes are snake_case, and a content code never doubles as an infrastructure code", () => {
  const content = [...Object.keys(PARSE_ERROR_CODES), ...Object.keys(PIPELINE_CONTENT_CODES)];
  for (const code of [...content, ...Object.keys(INFRA_FAILURE_CODES), GAVE_UP_CODE]) {
    assert.match(code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, code);
  }
  // `internal` is in both lists on purpose: the parser's bug (content, to review) and the flow's (released).
  const overlap = Object.keys(PIPELINE_CONTENT_CODES).filter((c) => c in INFRA_FAILURE_CODES);
  assert.deepEqual(overlap, []);
});

Deno.test("isUnavailable() is true only for the outage codes, never for a bug or a plain Error", () => {
  assert.equal(isUnavailable(new InfraFailure("database_unavailable", "x")), true);
  assert.equal(isUnavailable(new InfraFailure("storage_unavailable", "x")), true);
  assert.equal(isUnavailable(new InfraFailure("final_upload_failed", "x")), false);
  assert.equal(isUnavailable(new InfraFailure("internal", "x")), false);
  assert.equal(isUnavailable(Object.assign(new Error("x"), { code: "database_unavailable" })), false);
});

Deno.test("infraCodeOf() keeps an InfraFailure's code and calls anything else internal", () => {
  assert.equal(infraCodeOf(new InfraFailure("final_upload_failed", "x")), "final_upload_failed");
  assert.equal(infraCodeOf(new TypeError("bug")), "internal");
  assert.equal(infraCodeOf("thrown string"), "internal");
});

Deno.test("InfraFailure keeps its cause and names itself in logs", () => {
  const cause = new Error("ECONNRESET");
  const e = new InfraFailure("database_unavailable", "reset", { cause });
  assert.equal(e.cause, cause);
  assert.equal(e.name, "InfraFailure");
  assert.ok(e instanceof Error);
});
