/**
 * `/functions/v1/<name>[/rest]`: the platform part of Edge Functions — function lookup, `verify_jwt`, the
 * hosted environment, the wall-clock limit, and the platform's own error responses:
 *   401 {"code":401,"message":"Missing authorization header"} / {"code":401,"message":"Invalid JWT"}
 *   404 {"code":"NOT_FOUND","message":"Requested function was not found"}
 *   500 {"code":"WORKER_ERROR","message":"Function exited due to an error"}   (handler threw; worker_entry.ts)
 *   503 {"code":"BOOT_ERROR","message":"Worker failed to boot (please check logs)"}
 *   546 {"code":"WORKER_LIMIT","message":"Worker failed to respond due to a resource limit (please check logs)"}
 * OPTIONS skips verify_jwt (CORS preflight). Request and response bodies are streamed through unchanged.
 */
import { verifyJwt } from "../../keys.ts";
import type { GatewayConfig } from "../config.ts";
import type { Registry } from "./registry.ts";
import { BootError, type WorkerPool } from "./worker_pool.ts";

function platform(status: number, body: Record<string, unknown>): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export const RESPONSES = {
  missingAuth: () => platform(401, { code: 401, message: "Missing authorization header" }),
  invalidJwt: () => platform(401, { code: 401, message: "Invalid JWT" }),
  notFound: () => platform(404, { code: "NOT_FOUND", message: "Requested function was not found" }),
  workerError: () => platform(500, { code: "WORKER_ERROR", message: "Function exited due to an error" }),
  bootError: () =>
    platform(503, { code: "BOOT_ERROR", message: "Worker failed to boot (please check logs)" }),
  workerLimit: () =>
    platform(546, {
      code: "WORKER_LIMIT",
      message: "Worker failed to respond due to a resource limit (please check logs)",
    }),
};

/** Hop-by-hop headers never forwarded by a proxy. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "te",
  "trailer",
];

export interface FunctionsHostDeps {
  config: GatewayConfig;
  registry: Registry;
  pool: WorkerPool;
  jwtSecret: string;
  log: (fields: Record<string, unknown>) => void;
}

export async function isAuthorized(req: Request, secret: string): Promise<Response | null> {
  const header = req.headers.get("authorization");
  if (!header) return RESPONSES.missingAuth();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return RESPONSES.invalidJwt();
  const result = await verifyJwt(m[1], secret);
  return result.ok ? null : RESPONSES.invalidJwt();
}

export function createFunctionsHost(
  deps: FunctionsHostDeps,
): (req: Request, rest: string) => Promise<Response> {
  const { registry, pool, log } = deps;
  return async (req, rest) => {
    // rest = "<name>[/more][?query]" after /functions/v1/
    const url = new URL(req.url);
    const slash = rest.indexOf("/");
    const name = slash === -1 ? rest : rest.slice(0, slash);
    const entry = name ? registry.find(name) : null;
    if (!entry) return RESPONSES.notFound();
    if (entry.verifyJwt && req.method !== "OPTIONS") {
      const denied = await isAuthorized(req, deps.jwtSecret);
      if (denied) return denied;
    }

    let handle;
    try {
      handle = await pool.acquire(entry);
    } catch (err) {
      log({
        event: "function_boot_error",
        function: name,
        error: err instanceof BootError ? err.message : String(err),
      });
      return RESPONSES.bootError();
    }

    const limitMs = entry.wallClockLimitMs ?? deps.config.functionWallClockMs;
    const abort = new AbortController();
    let limitHit = false;
    const timer = setTimeout(() => {
      limitHit = true;
      log({ event: "function_wall_clock_limit", function: name, limit_ms: limitMs });
      abort.abort();
      handle.kill("wall clock limit");
    }, limitMs);
    req.signal.addEventListener("abort", () => abort.abort(), { once: true });

    const headers = new Headers(req.headers);
    for (const h of HOP_BY_HOP) headers.delete(h);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", "http");
    const target = `http://127.0.0.1:${handle.port}/${rest.split("?")[0]}${url.search}`;
    const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";

    let upstream: Response;
    try {
      upstream = await fetch(target, {
        method: req.method,
        headers,
        body: hasBody ? req.body : undefined,
        redirect: "manual",
        signal: abort.signal,
        // @ts-ignore: Deno's fetch needs duplex for a streamed request body
        duplex: hasBody ? "half" : undefined,
      });
    } catch (err) {
      clearTimeout(timer);
      handle.release();
      if (limitHit) return RESPONSES.workerLimit();
      if (req.signal.aborted) return new Response(null, { status: 499 });
      log({ event: "function_worker_unreachable", function: name, error: String(err) });
      return RESPONSES.workerError();
    }

    const outHeaders = new Headers(upstream.headers);
    for (const h of HOP_BY_HOP) outHeaders.delete(h);
    if (!upstream.body) {
      clearTimeout(timer);
      handle.release();
      return new Response(null, { status: upstream.status, headers: outHeaders });
    }
    // Stream the body through; the limit still applies until the function finishes its response.
    const reader = upstream.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            clearTimeout(timer);
            handle.release();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (err) {
          clearTimeout(timer);
          handle.release();
          controller.error(err);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        handle.release();
        void reader.cancel(reason).catch(() => {});
      },
    });
    return new Response(body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: outHeaders,
    });
  };
}
