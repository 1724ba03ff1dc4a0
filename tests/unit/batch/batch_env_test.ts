import assert from "node:assert/strict";
import { BATCH_DEFAULTS, batchSettingsFromEnv } from "../../../shared/batch/batch_env.ts";

const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });

Deno.test("batchSettingsFromEnv() has documented defaults and reads overrides", () => {
  assert.deepEqual(batchSettingsFromEnv(env({})), { ...BATCH_DEFAULTS });
  const s = batchSettingsFromEnv(env({ BATCH_MAX_REQUESTS: "500", BATCH_REQUEUE_EXPIRED: "0" }));
  assert.equal(s.maxRequests, 500);
  assert.equal(s.requeueExpired, 0);
});

Deno.test("batchSettingsFromEnv() fails at boot on a value out of range", () => {
  assert.throws(
    () => batchSettingsFromEnv(env({ BATCH_MAX_REQUESTS: "100001" })),
    /Cannot start: BATCH_MAX_REQUESTS/,
  );
  assert.throws(() => batchSettingsFromEnv(env({ BATCH_RESULTS_PART_BYTES: "1.5" })), /Cannot start/);
});
