/**
 * Wraps a domain handler for Deno.serve: CORS preflight, the one error mapper, a request id. Functions'
 * index.ts files stay wiring: `Deno.serve(serveHandler(handleX(deps)))`.
 */
import { errorResponse } from "./respond.ts";

export const CORS_HEADERS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, idempotency-key, x-user-id, prefer",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  // Browsers hide these from scripts unless exposed; Timing-Allow-Origin does the same for Server-Timing.
  "access-control-expose-headers": "server-timing, retry-after, idempotent-replayed",
  "timing-allow-origin": "*",
};

export type Handler = (req: Request) => Promise<Response>;

export function serveHandler(handler: Handler, name = "function"): (req: Request) => Promise<Response> {
  return async (req: Request) => {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS_HEADERS });
    let res: Response;
    try {
      res = await handler(req);
    } catch (err) {
      res = errorResponse(err, { function: name, method: req.method, path: new URL(req.url).pathname });
    }
    for (const [k, v] of Object.entries(CORS_HEADERS)) if (!res.headers.has(k)) res.headers.set(k, v);
    return res;
  };
}
