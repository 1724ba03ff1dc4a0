/**
 * A postgres.js connection pool made to survive a PostgreSQL restart (the gateway's and the functions').
 *
 * postgres.js 3.4.9 has a known defect when the server closes connections mid-transaction (porsager/postgres#1154,
 * #1208; fixes proposed in #1168, #1176, #1209, none released): `sql.begin` answers the dropped query by sending
 * `rollback` on the same connection, whose socket is already gone. The write is deferred with `setImmediate`, and
 * `nextWrite` then throws `TypeError: Cannot read properties of null (reading 'write')` from the timer — an
 * uncaught exception that ends the process — before it resets its pending-write state, so that pool slot never
 * sends another byte: every later connection through it waits `connect_timeout` and fails with CONNECT_TIMEOUT.
 * The gateway's Storage API runs every request in a transaction, so a database restart under load hit this in
 * about half the fault-suite runs (tests/e2e/faults/postgres_restart_test.ts), killing the gateway.
 *
 * Remedy (the gateway's pool and every function's, through shared/adapters/postgres_sql.ts createSql): that one exception is caught (the query involved was already rejected with
 * CONNECTION_CLOSED, so nothing waits for the lost write), and new queries go to a fresh pool from then on. The
 * previous pool is not ended: its pg_net LISTEN connection and in-flight queries finish on it, and its idle
 * connections close by themselves (`idle_timeout`). Functions that use `sql.begin` (review, monitor) would otherwise
 * die with the same exception on a database restart; see docs/FAULTS.md.
 */
import type postgres from "postgres";

type Sql = postgres.Sql;
type Log = (fields: Record<string, unknown>) => void;

/**
 * A socket reset (`read ECONNRESET`) or a refused connect (`connect ECONNREFUSED`) surfacing as a promise nobody
 * awaited: both seen in the gateway while PostgreSQL crashed under load during the chaos run (docs/FAULTS.md
 * "Chaos"), each ending the process. The query that owned the socket has already failed on its own (its caller
 * sees the error); nothing waits for this rejection, so it is logged and dropped.
 */
export function isUnawaitedSocketFailure(reason: unknown): boolean {
  const e = reason as { code?: unknown; syscall?: unknown } | null;
  return reason instanceof Error &&
    ((e?.code === "ECONNRESET" && e?.syscall === "read") ||
      (e?.code === "ECONNREFUSED" && e?.syscall === "connect"));
}

/** The exception described above, and nothing else. */
export function isPostgresJsClosedSocketWrite(err: unknown): boolean {
  return err instanceof TypeError && err.message.includes("reading 'write'") &&
    /postgres[/\\]src[/\\]connection\.js/.test(err.stack ?? "");
}

export interface HealingSql {
  /** Use like a postgres.js client; every call goes to the current pool. */
  readonly sql: Sql;
  /** How many times the pool was replaced. */
  replacements(): number;
  /** Ends the current pool (shutdown). */
  end(opts?: { timeout?: number }): Promise<void>;
}

/**
 * A postgres.js pool that replaces itself after postgres.js's closed-socket defect (see the header): callers keep
 * one `sql` handle for the worker's life, and a database restart costs the failed query, never the worker.
 */
export function healingSql(make: () => Sql, log: Log): HealingSql {
  let current = make();
  let replaced = 0;
  globalThis.addEventListener("error", (event) => {
    if (!isPostgresJsClosedSocketWrite(event.error)) return;
    event.preventDefault();
    replaced++;
    current = make();
    log({
      event: "postgres_pool_replaced",
      reason: "postgres.js wrote to a closed connection (porsager/postgres#1208)",
      replacements: replaced,
    });
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    if (!isUnawaitedSocketFailure(event.reason)) return;
    event.preventDefault();
    log({
      event: "postgres_socket_reset_dropped",
      reason: `an unawaited ${(event.reason as Error).message} (database restart)`,
    });
  });
  // A function target so the proxy is callable: sql`…` and sql(…) helpers go through `apply`.
  const target = function () {} as unknown as Sql;
  const sql = new Proxy(target, {
    apply: (_t, _this, args: unknown[]) =>
      Reflect.apply(current as unknown as (...a: unknown[]) => unknown, current, args),
    get: (_t, prop) => {
      const value = Reflect.get(current as object, prop);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
  return {
    sql,
    replacements: () => replaced,
    end: (opts) => current.end(opts),
  };
}
