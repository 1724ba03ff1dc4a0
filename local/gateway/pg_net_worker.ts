/**
 * pg_net's background worker, in TypeScript (the extension is not packaged for Debian's PostgreSQL 15).
 * local/bootstrap/platform.sql provides `net.http_post`/`net.http_get` with pg_net's signatures: they insert a
 * row into the UNLOGGED `net.http_request_queue` and `pg_notify('pg_net_queue', id)`, which PostgreSQL
 * delivers only if the caller commits. This worker:
 *   - wakes on that notification, or every `pollMs` (1 s) in case a notification was missed;
 *   - `DELETE … RETURNING` up to 200 rows (pg_net.batch_size) *before* sending them — the real worker's
 *     order, so a crash or stop mid-flight loses those requests, exactly as on Supabase;
 *   - performs each request once with the row's timeout (default 5000 ms), no retries, any status accepted;
 *   - records one row per request in `net._http_response` (status_code, content_type, headers, content,
 *     timed_out, error_msg, created);
 *   - deletes responses older than 6 hours (pg_net.ttl) at most once a minute.
 */
import type postgres from "postgres";

type Sql = postgres.Sql;

/** pg_net.max_timeout_ms default. */
const MAX_TIMEOUT_MS = 3_600_000;

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, unknown> | null;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

/**
 * Fault injection (local/gateway/faults.ts): "paused" leaves the queue alone (wake-ups are delayed); "dropping"
 * takes requests off the queue and never sends them (wake-ups are lost, as on a crash mid-flight).
 */
export type PgNetMode = "running" | "paused" | "dropping";

export interface PgNetOptions {
  pollMs?: number;
  batchSize?: number;
  ttl?: string;
  log: (fields: Record<string, unknown>) => void;
  /** Read before every batch; default always "running". */
  mode?: () => PgNetMode;
  /** Called with the number of requests dropped in "dropping" mode. */
  onDropped?: (count: number) => void;
}

export interface PgNetWorker {
  stop(): Promise<void>;
  /** Runs one batch now (tests and `wake`). */
  wake(): void;
}

export interface HttpOutcome {
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean;
  error_msg: string | null;
}

/** One HTTP request as pg_net makes it: once, with a total timeout, never throwing. */
export async function performRequest(r: QueuedRequest): Promise<HttpOutcome> {
  const timeoutMs = r.timeout_milliseconds;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    // pg_net ≥ 0.19 refuses to send these (a 0 timeout used to wedge the worker, pg_net#285).
    return {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: false,
      error_msg:
        `timeout_milliseconds must be between 1 and ${MAX_TIMEOUT_MS} (pg_net.max_timeout_ms), got ${timeoutMs}`,
    };
  }
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const headers = new Headers({ "user-agent": "pg_net/0.20.0 (local stack)" });
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    if (v !== null && v !== undefined) headers.set(k, String(v));
  }
  const started = performance.now();
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers,
      body: r.method === "GET" || r.method === "DELETE" || r.body === null
        ? undefined
        : r.body as Uint8Array<ArrayBuffer>,
      signal: ctrl.signal,
      redirect: "follow", // pg_net sets CURLOPT_FOLLOWLOCATION
    });
    const content = await res.text();
    const outHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      outHeaders[k] = v;
    });
    return {
      status_code: res.status,
      content_type: res.headers.get("content-type"),
      headers: outHeaders,
      // pg_net stores an empty body as NULL.
      content: content === "" ? null : content,
      timed_out: false,
      error_msg: null,
    };
  } catch (err) {
    if (ctrl.signal.aborted) {
      const total = Math.round(performance.now() - started);
      return {
        status_code: null,
        content_type: null,
        headers: null,
        content: null,
        timed_out: true,
        error_msg: `Timeout of ${timeoutMs} ms reached. Total time: ${total} ms`,
      };
    }
    return {
      status_code: null,
      content_type: null,
      headers: null,
      content: null,
      timed_out: false,
      error_msg: err instanceof Error ? err.message : String(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

export async function startPgNetWorker(sql: Sql, opts: PgNetOptions): Promise<PgNetWorker> {
  const pollMs = opts.pollMs ?? 1000;
  const batchSize = opts.batchSize ?? 200;
  const ttl = opts.ttl ?? "6 hours";
  const log = opts.log;
  let stopped = false;
  let running = false;
  let again = false;
  let lastCleanup = 0;
  let lastError: string | null = null;
  const inflight = new Set<Promise<void>>();

  async function record(id: string, o: HttpOutcome): Promise<void> {
    await sql`
      insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
      values (${id}, ${o.status_code}, ${o.content_type}, ${o.headers === null ? null : sql.json(o.headers)},
              ${o.content}, ${o.timed_out}, ${o.error_msg})`;
  }

  const mode = opts.mode ?? (() => "running" as const);

  async function batch(): Promise<void> {
    if (mode() === "paused") return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const rows = await sql<QueuedRequest[]>`
          delete from net.http_request_queue
           where id in (select id from net.http_request_queue order by id limit ${batchSize}
                        for update skip locked)
          returning id::text as id, method, url, headers, body, timeout_milliseconds`;
        if (mode() === "dropping" && rows.length > 0) {
          // Out of the queue and never sent, no response row: what a worker crash mid-flight leaves behind.
          for (const r of rows) {
            log({ event: "pg_net_request_dropped", id: r.id, method: r.method, url: r.url });
          }
          opts.onDropped?.(rows.length);
          if (rows.length === batchSize) again = true;
          continue;
        }
        for (const r of rows) {
          const p = performRequest(r).then((o) => record(r.id, o)).then(() => {
            log({ event: "pg_net_request", id: r.id, method: r.method, url: r.url });
          }).catch((err) => {
            log({ event: "pg_net_record_failed", id: r.id, error: String(err) });
          }).finally(() => inflight.delete(p));
          inflight.add(p);
        }
        if (rows.length === batchSize) again = true;
        if (Date.now() - lastCleanup > 60_000) {
          lastCleanup = Date.now();
          await sql`delete from net._http_response where created < now() - ${ttl}::interval`;
        }
      } while (again && !stopped && mode() !== "paused");
      lastError = null;
    } catch (err) {
      // The database may be down or being reset: try again on the next tick, logging each new error once.
      const message = err instanceof Error ? err.message : String(err);
      if (message !== lastError) log({ event: "pg_net_batch_failed", error: message });
      lastError = message;
    } finally {
      running = false;
    }
  }

  let listener: { unlisten: () => Promise<void> } | null = null;
  try {
    listener = await sql.listen("pg_net_queue", () => void batch(), () => void batch());
  } catch (err) {
    log({ event: "pg_net_listen_failed", error: String(err), fallback: `polling every ${pollMs} ms` });
  }
  const poll = setInterval(() => void batch(), pollMs);
  void batch();

  return {
    wake: () => void batch(),
    async stop() {
      stopped = true;
      clearInterval(poll);
      await listener?.unlisten().catch(() => {});
      // In-flight requests are already out of the queue: wait briefly, then they are lost (as on a real crash).
      await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, 2000))]);
    },
  };
}
