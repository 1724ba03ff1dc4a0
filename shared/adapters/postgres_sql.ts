/**
 * The database connection for functions: postgres.js over SUPABASE_DB_URL with `prepare: false`, so the
 * same code works through Supavisor's transaction pooler (no prepared statements, no session state).
 */
import postgres from "postgres";
import { AppError, appError } from "../errors.ts";
import { logger } from "../log.ts";
import { InfraFailure } from "../pipeline/failures.ts";
import { healingSql } from "./postgres_healing_sql.ts";

export type Sql = postgres.Sql;
export type TxSql = postgres.TransactionSql;

/**
 * The functions' connection pool: `prepare: false` for Supavisor's transaction pooler, bigints kept as strings,
 * and wrapped by `healingSql` so a database restart cannot end the worker. Lazy: nothing connects until the
 * first query, so building deps at boot never waits on the database.
 */
export function createSql(dbUrl: string, opts: { max?: number } = {}): Sql {
  // Wrapped so a database restart during a transaction cannot end the worker (healing_sql.ts).
  return healingSql(() => makeSql(dbUrl, opts), (fields) => logger.warn("postgres_pool_replaced", fields))
    .sql;
}

function makeSql(dbUrl: string, opts: { max?: number }): Sql {
  return postgres(dbUrl, {
    prepare: false,
    max: opts.max ?? 4,
    idle_timeout: 20,
    connect_timeout: 10,
    onnotice: () => {},
    // Keep timestamps and bigints as strings (parsed with zod where read): no silent precision loss.
    types: { bigint: postgres.BigInt },
  });
}

/**
 * SQLSTATEs a client can act on (a duplicate, a missing referenced row, bad input syntax, a permission, a lock),
 * mapped to our error codes; null for anything else. Used as the `rules` of an adapter whose port answers a
 * client (postgres_conversation_repo.ts).
 */
export function translateDbError(err: unknown): AppError | null {
  const code = (err as { code?: unknown })?.code;
  switch (code) {
    case "23505":
      return appError("conflict", "Cannot write the row: it already exists");
    case "23503":
      return appError("not_found", "Cannot write the row: a referenced row does not exist");
    case "22P02":
      return appError("invalid_body", "Cannot read a value: invalid input syntax");
    case "42501":
      return appError("forbidden", "Cannot access the row: permission denied");
    case "55P03":
      return appError("conflict", "Cannot lock the row: it is locked by another request");
    default:
      return null;
  }
}

/**
 * The adapter edge of the pipeline's failure model: a failure where trying again later can help (connection
 * loss, timeout, serialization) becomes the domain's `InfraFailure("database_unavailable")` with the driver's
 * error as its cause and its message unchanged (it ends up in the attempts log); anything else is returned as
 * it is (a bug, or a rule the database enforced), for the caller to rethrow.
 */
export function translatePostgresFailure(err: unknown): unknown {
  if (err instanceof InfraFailure || !isTransientDbError(err)) return err;
  return new InfraFailure("database_unavailable", err instanceof Error ? err.message : String(err), {
    cause: err,
  });
}

/**
 * Wraps every method of a Postgres adapter so that what it throws is already translated
 * (`translatePostgresFailure`): the domain behind the port never sees a SQLSTATE or a driver error code. An
 * adapter whose port answers a client directly passes `rules` (e.g. `translateDbError`) to turn the rules the
 * database enforced into the client's error codes first.
 */
export function translatingPostgresFailures<T extends object>(
  adapter: T,
  rules: (err: unknown) => Error | null = () => null,
): T {
  const wrapped = {} as Record<string, unknown>;
  for (const [name, value] of Object.entries(adapter)) {
    wrapped[name] = typeof value !== "function" ? value : async (...args: unknown[]) => {
      try {
        return await value.apply(adapter, args);
      } catch (err) {
        throw rules(err) ?? translatePostgresFailure(err);
      }
    };
  }
  return wrapped as T;
}

/** True for failures where trying again later can help (connection loss, timeouts, serialization). */
export function isTransientDbError(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? "");
  if (
    ["40001", "40P01", "57014", "57P01", "57P02", "57P03", "53300", "08000", "08003", "08006", "08001"]
      .includes(code)
  ) {
    return true;
  }
  return [
    "ECONNREFUSED",
    "ECONNRESET",
    "CONNECTION_CLOSED",
    "CONNECTION_ENDED",
    "CONNECT_TIMEOUT",
    "CONNECTION_DESTROYED",
  ]
    .includes(code);
}
