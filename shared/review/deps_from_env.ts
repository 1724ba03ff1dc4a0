/**
 * The review-queue function's dependencies from the hosted environment, validated once at boot.
 *
 * The parse flow is built by the parse function's own `parseHandlerDepsFromEnv`, so a re-parse from review uses
 * exactly the parse function's settings (lease, backoff, limits: PARSE_* variables, docs/PARSE_FLOW.md) and its
 * parser. Review's own settings:
 *   REVIEW_SIGNED_URL_SECONDS    lifetime of the raw-object link in GET …/{id} (default 300, 10..3600)
 *   REVIEW_RETRY_ALL_BUDGET_MS   wall clock one retry-all call spends before answering with a cursor
 *                                (default 60000; the hosted wall-clock limit is 150 s)
 */
import { createSql } from "../adapters/postgres_sql.ts";
import { postgresReviewRepo } from "../adapters/postgres_review_repo.ts";
import { postgresHealthReader } from "../adapters/postgres_health_reader.ts";
import { postgresMonitorStore } from "../adapters/postgres_monitor_store.ts";
import { type EnvSource, numberFromEnv, platformFromEnv } from "../env.ts";
import { parseHandlerDepsFromEnv } from "../parse_flow/deps_from_env.ts";
import { DEFAULT_RETRY_ALL_BUDGET_MS, DEFAULT_SIGNED_URL_SECONDS, type ReviewDeps } from "./handler.ts";

/**
 * Called once at boot. Throws `Cannot start: …` when a platform or `PARSE_*` setting is invalid (as
 * `parseHandlerDepsFromEnv`) or REVIEW_SIGNED_URL_SECONDS is outside 10..3600. The review's store is the parse
 * flow's store, so a resolve and a re-parse write through the same Storage client. Opens no connection.
 */
export function reviewDepsFromEnv(env: EnvSource): ReviewDeps {
  const platform = platformFromEnv(env);
  const parse = parseHandlerDepsFromEnv(env);
  const signedUrlSeconds = numberFromEnv(env, "REVIEW_SIGNED_URL_SECONDS", DEFAULT_SIGNED_URL_SECONDS);
  if (signedUrlSeconds < 10 || signedUrlSeconds > 3600) {
    throw new Error("Cannot start: REVIEW_SIGNED_URL_SECONDS must be between 10 and 3600");
  }
  const sql = createSql(platform.dbUrl, { max: 2 });
  return {
    repo: postgresReviewRepo(sql),
    store: parse.flow.store,
    flow: parse.flow,
    serviceKeys: platform.serviceKeys,
    signedUrlSeconds,
    retryAllBudgetMs: numberFromEnv(env, "REVIEW_RETRY_ALL_BUDGET_MS", DEFAULT_RETRY_ALL_BUDGET_MS),
    health: { monitor: postgresMonitorStore(sql), reader: postgresHealthReader(sql) },
  };
}
