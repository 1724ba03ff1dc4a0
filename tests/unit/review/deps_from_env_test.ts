import assert from "node:assert/strict";
import { reviewDepsFromEnv } from "../../../shared/review/deps_from_env.ts";
import { DEFAULT_RETRY_ALL_BUDGET_MS, DEFAULT_SIGNED_URL_SECONDS } from "../../../shared/review/handler.ts";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";

const PLATFORM = {
  SUPABASE_URL: "http://127.0.0.1:1",
  // Never connected to: the pools open a connection on the first query only.
  SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service-key-for-review-env-test",
};

function env(vars: Record<string, string>) {
  return { get: (k: string) => vars[k] };
}

Deno.test("reviewDepsFromEnv() uses the defaults and the parse flow's own store and parser", () => {
  const deps = reviewDepsFromEnv(env(PLATFORM));
  assert.equal(deps.signedUrlSeconds, DEFAULT_SIGNED_URL_SECONDS);
  assert.equal(deps.retryAllBudgetMs, DEFAULT_RETRY_ALL_BUDGET_MS);
  assert.equal(deps.store, deps.flow.store, "resolve and re-parse write through one Storage client");
  assert.equal(deps.flow.parserVersion, PARSER_VERSION);
  assert.deepEqual(deps.serviceKeys, [PLATFORM.SUPABASE_SERVICE_ROLE_KEY]);
});

Deno.test("reviewDepsFromEnv() reads REVIEW_* settings", () => {
  const deps = reviewDepsFromEnv(env({
    ...PLATFORM,
    REVIEW_SIGNED_URL_SECONDS: "3600",
    REVIEW_RETRY_ALL_BUDGET_MS: "1500",
  }));
  assert.equal(deps.signedUrlSeconds, 3600);
  assert.equal(deps.retryAllBudgetMs, 1500);
  assert.equal(reviewDepsFromEnv(env({ ...PLATFORM, REVIEW_SIGNED_URL_SECONDS: "10" })).signedUrlSeconds, 10);
});

Deno.test("reviewDepsFromEnv() fails at boot on a link lifetime outside 10..3600 s or a bad PARSE_* value", () => {
  for (const seconds of ["9", "3601", "0", "soon"]) {
    assert.throws(
      () => reviewDepsFromEnv(env({ ...PLATFORM, REVIEW_SIGNED_URL_SECONDS: seconds })),
      /Cannot start/,
      seconds,
    );
  }
  assert.throws(() => reviewDepsFromEnv(env({ ...PLATFORM, PARSE_CONCURRENCY: "many" })), /Cannot start/);
  const { SUPABASE_URL: _, ...noUrl } = PLATFORM;
  assert.throws(() => reviewDepsFromEnv(env(noUrl)), /Cannot start/);
});
