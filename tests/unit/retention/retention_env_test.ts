import assert from "node:assert/strict";
import { retentionConfigFromEnv } from "../../../shared/retention/retention_env.ts";

const env = (vars: Record<string, string | undefined>) => ({ get: (k: string) => vars[k] });

Deno.test("retentionConfigFromEnv() is off when RAW_RETENTION_DAYS is unset or empty", () => {
  assert.deepEqual(retentionConfigFromEnv(env({})), { retentionDays: null, batchSize: 100, maxBatches: 10 });
  assert.equal(retentionConfigFromEnv(env({ RAW_RETENTION_DAYS: " " })).retentionDays, null);
});

Deno.test("retentionConfigFromEnv() reads whole days and batch settings", () => {
  assert.deepEqual(
    retentionConfigFromEnv(
      env({ RAW_RETENTION_DAYS: "30", RAW_RETENTION_BATCH_SIZE: "500", RAW_RETENTION_MAX_BATCHES: "3" }),
    ),
    { retentionDays: 30, batchSize: 500, maxBatches: 3 },
  );
});

Deno.test("retentionConfigFromEnv() fails at boot on a value that is not a whole number in range", () => {
  for (
    const vars of [
      { RAW_RETENTION_DAYS: "30d" },
      { RAW_RETENTION_DAYS: "0" },
      { RAW_RETENTION_DAYS: "-5" },
      { RAW_RETENTION_DAYS: "1.5" },
      { RAW_RETENTION_BATCH_SIZE: "5000" },
      { RAW_RETENTION_MAX_BATCHES: "0" },
    ]
  ) {
    assert.throws(
      () => retentionConfigFromEnv(env(vars)),
      /Cannot start: invalid environment/,
      JSON.stringify(vars),
    );
  }
});
