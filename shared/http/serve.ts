/**
 * Wraps a domain handler for Deno.serve: CORS preflight, the one error mapper, a request id and Server-Timing.
 * Functions' index.ts files stay wiring: `Deno.serve(serveHandler(handleX(deps), "x"))`, and handlers stay free
 * of try/catch: what they throw is mapped here, once, and the timing and the id are attached to every answer,
 * success or error.
 */
import { errorResponse } from "./respond.ts";
import { PhaseTimer } from "./server_timing.ts";

export const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, idempotency-key, x-user-id, prefer, x-request-id",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  // Browsers hide these from scripts unless exposed; Timing-Allow-Origin does the same for Server-Timing.
  "access-control-expose-headers": "server-timing, retry-after, idempotent-replayed, x-request-id",
  "timing-allow-origin": "*",
};

/** The response header that carries the request id (also logged with every unhandled error). */
export const REQUEST_ID_HEADER = "x-request-id";

/** What `serveHandler` gives each request: its id and the timer whose phases become `Server-Timing`. */
export interface RequestContext {
  readonly requestId: string;
  readonly timer: PhaseTimer;
}

/** A domain handler: may throw (AppError, ZodError, anything); `serveHandler` maps what it throws. */
export type Handler = (req: Request, ctx: RequestContext) => Promise<Response>;

export interface ServeOptions {
  /** Milliseconds for the Server-Timing durations (default `performance.now`). */
  readonly monotonic?: () => number;
}

/** A caller's own id is kept when it is short and plain (it ends up in logs and headers); otherwise a new one. */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request's id: the caller's `x-request-id` (or the platform's `sb-request-id`) when it is safe to echo, so
 * a client can quote it and the logs can be searched for it; a new uuid otherwise.
 */
export function requestIdOf(req: Request): string {
  for (const name of [REQUEST_ID_HEADER, "sb-request-id"]) {
    const value = req.headers.get(name)?.trim();
    if (value && CALLER_REQUEST_ID.test(value)) return value;
  }
  return crypto.randomUUID();
}

/**
 * The function's fetch handler: answers CORS preflight itself; otherwise runs `handler`, maps anything it throws
 * with `errorResponse` (the one mapper), and adds CORS headers, `x-request-id` and `Server-Timing` (the
 * handler's phases plus `total`) to whatever is returned. Never throws.
 */
export function serveHandler(
  handler: Handler,
  name = "function",
  opts: ServeOptions = {},
): (req: Request) => Promise<Response> {
  const monotonic = opts.monotonic ?? (() => performance.now());
  return async (req: Request) => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS_HEADERS });
    const ctx: RequestContext = { requestId: requestIdOf(req), timer: new PhaseTimer(monotonic) };
    let res: Response;
    try {
      res = await handler(req, ctx);
    } catch (err) {
      res = errorResponse(err, {
        function: name,
        method: req.method,
        path: new URL(req.url).pathname,
        request_id: ctx.requestId,
      });
    }
    for (const [k, v] of Object.entries(CORS_HEADERS)) if (!res.headers.has(k)) res.headers.set(k, v);
    res.headers.set(REQUEST_ID_HEADER, ctx.requestId);
    if (!res.headers.has("server-timing")) res.headers.set("server-timing", ctx.timer.header());
    return res;
  };
}
