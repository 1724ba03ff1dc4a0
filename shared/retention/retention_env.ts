/**
 * raw-retention's settings, validated at boot (a typo such as RAW_RETENTION_DAYS=30d fails the worker's boot
 * instead of silently keeping or deleting everything):
 *   RAW_RETENTION_DAYS         whole days (>= 1); unset or empty: retention is off
 *   RAW_RETENTION_BATCH_SIZE   objects per batch, 1..1000 (default 100; Storage's remove takes up to 1000)
 *   RAW_RETENTION_MAX_BATCHES  batches per run, 1..100 (default 10: 1,000 objects a day by default)
 */
import { z } from "zod";
import { type EnvSource, schemaFromEnv } from "../env.ts";
import type { RetentionConfig } from "./run_raw_retention.ts";

const optionalInt = (min: number, max: number) =>
  z.string().optional()
    .transform((s) => (s === undefined || s.trim() === "" ? undefined : s.trim()))
    .pipe(z.union([z.undefined(), z.string().regex(/^\d+$/, "must be a whole number").transform(Number)]))
    .pipe(z.union([z.undefined(), z.number().int().min(min).max(max)]));

const retentionEnvSchema = z.object({
  RAW_RETENTION_DAYS: optionalInt(1, 36_500),
  RAW_RETENTION_BATCH_SIZE: optionalInt(1, 1_000),
  RAW_RETENTION_MAX_BATCHES: optionalInt(1, 100),
});

/**
 * Called at boot. Throws `Cannot start: invalid environment (…)` for a value that is not a whole number in its
 * range; an unset or blank RAW_RETENTION_DAYS gives `retentionDays: null` (retention off), never a default age.
 */
export function retentionConfigFromEnv(env: EnvSource): RetentionConfig {
  const e = schemaFromEnv(retentionEnvSchema, env);
  return {
    retentionDays: e.RAW_RETENTION_DAYS ?? null,
    batchSize: e.RAW_RETENTION_BATCH_SIZE ?? 100,
    maxBatches: e.RAW_RETENTION_MAX_BATCHES ?? 10,
  };
}
