import assert from "node:assert/strict";
import { retentionDepsFromEnv } from "../../../shared/retention/deps_from_env.ts";

const PLATFORM = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
};
const env = (vars: Record<string, string>) => ({ get: (k: string) => ({ ...PLATFORM, ...vars })[k] });

Deno.test("retentionDepsFromEnv() leaves retention off unless RAW_RETENTION_DAYS is set", () => {
  assert.deepEqual(retentionDepsFromEnv(env({})).config, {
    retentionDays: null,
    batchSize: 100,
    maxBatches: 10,
  });
  const on = retentionDepsFromEnv(env({ RAW_RETENTION_DAYS: "30", RAW_RETENTION_BATCH_SIZE: "5" }));
  assert.deepEqual(on.config, { retentionDays: 30, batchSize: 5, maxBatches: 10 });
  assert.deepEqual(on.serviceKeys, ["service-key"]);
});

Deno.test("retentionDepsFromEnv() fails at boot on a typo instead of keeping or deleting everything", () => {
  assert.throws(() => retentionDepsFromEnv(env({ RAW_RETENTION_DAYS: "30d" })), /RAW_RETENTION_DAYS/);
});
