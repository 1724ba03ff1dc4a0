import assert from "node:assert/strict";
import { generateDepsFromEnv } from "../../../shared/generate/deps_from_env.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";

const BASE = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:1/postgres",
  SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a","other":"sb_secret_b"}',
  ANTHROPIC_API_KEY: "sk-test",
};
const env = (vars: Record<string, string | undefined>) => ({
  get: (k: string) => (k in vars ? vars[k] : (BASE as Record<string, string>)[k]),
});

Deno.test("generateDepsFromEnv() wires every port with the system clock and accepts every service key", () => {
  const deps = generateDepsFromEnv(env({ CLAUDE_MAX_TOKENS: "2048" }));
  assert.equal(deps.clock, systemClock);
  assert.deepEqual(deps.serviceKeys, ["sb_secret_a", "sb_secret_b"]);
  assert.equal(deps.config.maxTokens, 2048);
  for (const port of [deps.repo, deps.store, deps.claude, deps.limits]) assert.equal(typeof port, "object");
});

Deno.test("generateDepsFromEnv() fails at boot without ANTHROPIC_API_KEY", () => {
  assert.throws(() => generateDepsFromEnv(env({ ANTHROPIC_API_KEY: undefined })), /ANTHROPIC_API_KEY/);
});
