import assert from "node:assert/strict";
import { parseHandlerDepsFromEnv } from "../../../shared/parse_flow/deps_from_env.ts";
import { DEFAULT_BATCH_BUDGET_MS } from "../../../shared/parse_flow/handle_parse_conversation.ts";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";
import { log, setLogSink } from "../../../shared/log.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";

const SERVICE_KEY = `service-${crypto.randomUUID()}`;
const PLATFORM = {
  SUPABASE_URL: "http://127.0.0.1:1/",
  // Never connected to: the pool opens a connection on the first query only.
  SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
};

function env(vars: Record<string, string>) {
  return { get: (k: string) => vars[k] };
}

Deno.test("parseHandlerDepsFromEnv() uses the documented defaults", () => {
  const deps = parseHandlerDepsFromEnv(env(PLATFORM));
  assert.equal(deps.concurrency, 4);
  assert.equal(deps.spoolBatch, 10);
  assert.equal(deps.batchBudgetMs, DEFAULT_BATCH_BUDGET_MS);
  assert.equal(deps.flow.parserVersion, PARSER_VERSION);
  assert.deepEqual(deps.serviceKeys, [SERVICE_KEY]);
  assert.equal(deps.flow.clock, systemClock, "the flow runs on the real clock");
});

Deno.test("parseHandlerDepsFromEnv() reads PARSE_* settings and keeps concurrency and batch at least 1", () => {
  const deps = parseHandlerDepsFromEnv(env({
    ...PLATFORM,
    PARSE_CONCURRENCY: "0",
    PARSE_SPOOL_BATCH: "0",
    PARSE_BATCH_BUDGET_MS: "250",
  }));
  assert.equal(deps.concurrency, 1);
  assert.equal(deps.spoolBatch, 1);
  assert.equal(deps.batchBudgetMs, 250);
});

Deno.test("parseHandlerDepsFromEnv() gives the parser PARSE_MAX_RAW_BYTES (too_large above it)", () => {
  const deps = parseHandlerDepsFromEnv(env({ ...PLATFORM, PARSE_MAX_RAW_BYTES: "16" }));
  const result = deps.flow.parse(
    new TextEncoder().encode(JSON.stringify({ content: "more than sixteen bytes" })),
  );
  assert.equal(result.outcome, "failed");
  assert.equal(result.error?.code, "too_large");
});

Deno.test("parseHandlerDepsFromEnv() fails at boot on a bad number or a missing platform setting", () => {
  for (const [name, value] of [["PARSE_LEASE_SECONDS", "soon"], ["PARSE_CONCURRENCY", "-1"]]) {
    assert.throws(() => parseHandlerDepsFromEnv(env({ ...PLATFORM, [name]: value })), /Cannot start/, name);
  }
  const { SUPABASE_DB_URL: _, ...noDb } = PLATFORM;
  assert.throws(() => parseHandlerDepsFromEnv(env(noDb)), /Cannot start/);
});

Deno.test("parseHandlerDepsFromEnv() registers the service key for redaction in logs", () => {
  parseHandlerDepsFromEnv(env(PLATFORM));
  const lines: string[] = [];
  const prev = setLogSink((l) => lines.push(l));
  try {
    log("info", "probe", { header: `Bearer ${SERVICE_KEY}` });
  } finally {
    setLogSink(prev);
  }
  assert.ok(!lines[0].includes(SERVICE_KEY), lines[0]);
});
