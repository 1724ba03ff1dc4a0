/**
 * export-dataset's dependencies from the hosted environment, validated once at boot. Settings:
 *   EXPORT_PAGE_SIZE     rows per database page (default 500, 1..5000)
 *   EXPORT_CONCURRENCY   final files fetched at once (default 16, 1..64)
 */
import { createSql } from "../adapters/postgres_sql.ts";
import { postgresExportRows } from "../adapters/postgres_export_rows.ts";
import { supabaseExportFiles } from "../adapters/supabase_export_files.ts";
import { type EnvSource, numberFromEnv, platformFromEnv } from "../env.ts";
import { redactInLogs } from "../log.ts";
import type { ExportDatasetDeps } from "./handle_export_dataset.ts";

/** The export's row source and Storage, the service keys and the page settings. Opens no connection. */
export function exportDepsFromEnv(env: EnvSource): ExportDatasetDeps {
  const platform = platformFromEnv(env);
  for (const key of platform.serviceKeys) redactInLogs(key);
  const pageSize = numberFromEnv(env, "EXPORT_PAGE_SIZE", 500);
  const concurrency = numberFromEnv(env, "EXPORT_CONCURRENCY", 16);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 5000) {
    throw new Error("Cannot start: EXPORT_PAGE_SIZE must be an integer between 1 and 5000");
  }
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new Error("Cannot start: EXPORT_CONCURRENCY must be an integer between 1 and 64");
  }
  return {
    source: {
      ...postgresExportRows(createSql(platform.dbUrl, { max: 2 })),
      ...supabaseExportFiles(platform.supabaseUrl, platform.serviceKey),
    },
    serviceKeys: platform.serviceKeys,
    pageSize,
    concurrency,
  };
}
