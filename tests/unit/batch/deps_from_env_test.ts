import assert from "node:assert/strict";
import { collectBatchesDepsFromEnv, generateBatchDepsFromEnv } from "../../../shared/batch/deps_from_env.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";

const BASE: Record<string, string> = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:1/postgres",
  SUPABASE_SECRET_KEYS: '{"default":"sb_secret_a"}',
  ANTHROPIC_API_KEY: "sk-test",
};
const env = (vars: Record<string, string | undefined>) => ({
  get: (k: string) => (k in vars ? vars[k] : BASE[k]),
});

Deno.test("generateBatchDepsFromEnv() and collectBatchesDepsFromEnv() wire every port with the system clock", () => {
  const g = generateBatchDepsFromEnv(env({ BATCH_MAX_REQUESTS: "50" }));
  assert.equal(g.clock, systemClock);
  assert.equal(g.settings.maxRequests, 50);
  assert.deepEqual(g.serviceKeys, ["sb_secret_a"]);
  const c = collectBatchesDepsFromEnv(env({}));
  for (const port of [c.store, c.api, c.results, c.raw]) assert.equal(typeof port, "object");
});

Deno.test("the batch functions fail at boot without ANTHROPIC_API_KEY", () => {
  assert.throws(() => generateBatchDepsFromEnv(env({ ANTHROPIC_API_KEY: undefined })), /ANTHROPIC_API_KEY/);
  assert.throws(() => collectBatchesDepsFromEnv(env({ ANTHROPIC_API_KEY: undefined })), /ANTHROPIC_API_KEY/);
});
