/**
 * Runs one Edge Function in its own Deno process, the way the hosted runtime runs it: the function's
 * `index.ts` calls `Deno.serve(handler)` unchanged. Before importing it, this wrapper
 *   - replaces `Deno.serve` so the handler is captured instead of binding port 8000 (several functions run
 *     side by side), and serves it on a private 127.0.0.1 port the gateway proxies to;
 *   - defines the global `EdgeRuntime` (`waitUntil`) and fires `beforeunload` before a shutdown, waiting for
 *     pending background tasks (bounded);
 *   - turns a throwing handler into the platform's 500 `WORKER_ERROR` (stack to the log, never to the client).
 * `export default { fetch }` modules (Deno's serve shape) are accepted too.
 *
 * Protocol with local/gateway/functions/worker_pool.ts: argv = [entrypoint path, function name, public origin];
 * one stdout line `@@zl-worker-ready {"port":N}` when serving; exit code 3 when the module fails to boot.
 * The environment is exactly the hosted one the gateway built (nothing inherited).
 */

type ServeHandler = (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response | Promise<Response>;

const [entrypoint, functionName, publicOrigin] = Deno.args;
const READY_MARKER = "@@zl-worker-ready";
const BOOT_FAILED_EXIT = 3;
/** How long pending `EdgeRuntime.waitUntil` work may run after a shutdown starts. */
const DRAIN_MS = 10_000;

/** The real Deno.serve, kept before the function's module can see the replacement. */
const realServe = Deno.serve.bind(Deno);
let captured: ServeHandler | null = null;
const pending = new Set<Promise<unknown>>();

function platformError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ code, message }), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function isHandler(x: unknown): x is ServeHandler {
  return typeof x === "function";
}

/** Accepts every call shape of Deno.serve: (handler), (options, handler), ({ handler, ...options }). */
function captureServe(...args: unknown[]): Deno.HttpServer<Deno.NetAddr> {
  const [a, b] = args;
  let handler: ServeHandler | null = null;
  if (isHandler(a)) handler = a;
  else if (isHandler(b)) handler = b;
  else if (a && typeof a === "object" && "handler" in a && isHandler((a as { handler: unknown }).handler)) {
    handler = (a as { handler: ServeHandler }).handler;
  }
  if (!handler) throw new TypeError("Deno.serve: a handler function is required");
  if (captured) throw new Error("Deno.serve was called twice: an Edge Function serves one handler");
  captured = handler;
  const addr: Deno.NetAddr = { transport: "tcp", hostname: "0.0.0.0", port: 8000 };
  const finished = new Promise<void>(() => {});
  const server = {
    addr,
    finished,
    shutdown: () => Promise.resolve(),
    ref() {},
    unref() {},
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return server as unknown as Deno.HttpServer<Deno.NetAddr>;
}

const edgeRuntime = {
  waitUntil<T>(promise: Promise<T>): Promise<T> {
    const tracked = Promise.resolve(promise).catch((err) => {
      console.error(`[${functionName}] EdgeRuntime.waitUntil task failed:`, err);
    }).finally(() => pending.delete(tracked));
    pending.add(tracked);
    return promise;
  },
};

Object.defineProperty(globalThis, "EdgeRuntime", { value: edgeRuntime, writable: false, configurable: true });
(Deno as unknown as { serve: typeof captureServe }).serve = captureServe;

try {
  const mod: Record<string, unknown> = await import(new URL(`file://${entrypoint}`).href);
  const fallback = mod.default;
  if (!captured && fallback && typeof fallback === "object" && "fetch" in fallback) {
    const fetchFn = (fallback as { fetch: unknown }).fetch;
    if (isHandler(fetchFn)) captured = fetchFn.bind(fallback) as ServeHandler;
  }
  if (!captured) {
    throw new Error("the module neither called Deno.serve(handler) nor exported default { fetch }");
  }
} catch (err) {
  console.error(`[${functionName}] boot failed:`, err instanceof Error ? err.stack ?? err.message : err);
  Deno.exit(BOOT_FAILED_EXIT);
}

const handler: ServeHandler = captured as ServeHandler;
const origin = new URL(publicOrigin);

const server = realServe(
  {
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => console.log(`${READY_MARKER} ${JSON.stringify({ port })}`),
    onError: (err) => {
      console.error(`[${functionName}] uncaught error:`, err instanceof Error ? err.stack : err);
      return platformError(500, "WORKER_ERROR", "Function exited due to an error");
    },
  },
  async (req, info) => {
    // The function sees the public URL (…/<name>/rest?query), as behind the hosted gateway.
    const url = new URL(req.url);
    const publicReq = new Request(new URL(url.pathname + url.search, origin), req);
    try {
      return await handler(publicReq, info);
    } catch (err) {
      console.error(
        `[${functionName}] handler threw:`,
        err instanceof Error ? err.stack ?? err.message : err,
      );
      return platformError(500, "WORKER_ERROR", "Function exited due to an error");
    }
  },
);

let stopping = false;
async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  globalThis.dispatchEvent(new CustomEvent("beforeunload", { detail: { reason } }));
  const deadline = new Promise((r) => setTimeout(r, DRAIN_MS));
  await Promise.race([Promise.allSettled([...pending]), deadline]);
  await server.shutdown().catch(() => {});
  Deno.exit(0);
}

Deno.addSignalListener("SIGTERM", () => void shutdown("termination"));
Deno.addSignalListener("SIGINT", () => void shutdown("termination"));
