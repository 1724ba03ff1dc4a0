/**
 * Runs SQL as the caller, the way storage-api does (src/internal/database/postgres/scope.ts): a transaction
 * that first sets, transaction-locally, the role from the JWT, `request.jwt.claims` (and the legacy
 * `request.jwt.claim.*` and `request.jwt`), `request.headers`, `request.method`, `request.path`,
 * `storage.operation` and `storage.allow_delete_query = 'true'`. RLS policies and triggers see exactly that.
 */
import type postgres from "postgres";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export interface Caller {
  role: string;
  claims: Record<string, unknown>;
  /** The raw JWT (empty for anon without a token). */
  jwt: string;
  sub: string | null;
}

export interface RequestScope {
  caller: Caller;
  headers: Record<string, string>;
  method: string;
  path: string;
  operation: string;
}

/** Thrown inside a transaction to roll it back on purpose (storage-api's testPermission). */
export class Rollback extends Error {
  constructor() {
    super("rollback");
  }
}

export function headersObject(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

export async function applyScope(tx: Tx, scope: RequestScope): Promise<void> {
  const { caller } = scope;
  await tx`
    select set_config('role', ${caller.role}, true),
           set_config('request.jwt.claim.role', ${caller.role}, true),
           set_config('request.jwt', ${caller.jwt}, true),
           set_config('request.jwt.claim.sub', ${caller.sub ?? ""}, true),
           set_config('request.jwt.claims', ${JSON.stringify(caller.claims)}, true),
           set_config('request.headers', ${JSON.stringify(scope.headers)}, true),
           set_config('request.method', ${scope.method}, true),
           set_config('request.path', ${scope.path}, true),
           set_config('storage.operation', ${scope.operation}, true),
           set_config('storage.allow_delete_query', 'true', true)`;
}

/**
 * The scope statement and `fn`'s first statements go out together (postgres.js pipelines what is queued on the
 * transaction's connection in the same tick, one socket write): PostgreSQL still runs them in order, so `fn`
 * sees the role and settings, and a failed scope fails the transaction before `fn`'s statements run. One round
 * trip less per request than awaiting the scope first.
 */
async function scoped<T>(tx: Tx, scope: RequestScope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const [, result] = await Promise.all([applyScope(tx, scope), fn(tx)]);
  return result;
}

export function withScope<T>(sql: Sql, scope: RequestScope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin((tx) => scoped(tx, scope, fn)) as Promise<T>;
}

/** Runs `fn` as the caller and always rolls back; returns what `fn` returned (or rethrows its error). */
export async function testPermission<T>(
  sql: Sql,
  scope: RequestScope,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  try {
    await sql.begin(async (tx) => {
      result = await scoped(tx, scope, fn);
      throw new Rollback();
    });
  } catch (err) {
    if (err instanceof Rollback) return result as T;
    throw err;
  }
  return result as T;
}
