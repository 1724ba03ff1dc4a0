/**
 * The review console's static files (console/, built by local/stack.ts into `<stateDir>/console`), served on
 * LOCAL_CONSOLE_PORT (54323, Studio's port under `supabase start`). Also `deno task console` (console/serve.ts).
 *
 * Only files inside the folder are served (no `..`, no symlinks out); an unknown path without an extension is
 * the app's index.html (hash routes never reach the server, but a reload of `/` must work); a missing build
 * answers 503 with the command that makes it.
 */
import { extname, join, normalize, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** A fetch handler serving `dir`. */
export function serveConsoleFiles(dir: string): (req: Request) => Promise<Response> {
  const root = resolve(dir);
  return async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const url = new URL(req.url);
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      return new Response("bad path", { status: 400 });
    }
    if (rel.endsWith("/")) rel += "index.html";
    if (extname(rel) === "") rel = "/index.html";
    const path = normalize(join(root, rel));
    if (!path.startsWith(root + "/")) return new Response("not found", { status: 404 });
    let body: Uint8Array;
    try {
      const real = await Deno.realPath(path);
      if (!real.startsWith(root + "/") && !real.startsWith(await Deno.realPath(root) + "/")) {
        return new Response("not found", { status: 404 });
      }
      body = await Deno.readFile(real);
    } catch {
      if (rel === "/index.html") {
        return new Response(
          "The review console is not built: run `deno task stack:start` (or `deno task console:build`)\n",
          { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } },
        );
      }
      return new Response("not found", { status: 404 });
    }
    const type = TYPES[extname(path)] ?? "application/octet-stream";
    // The bundle's name carries no hash, so clients revalidate; the files are small.
    const headers = {
      "content-type": type,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      ...(type.startsWith("text/html")
        ? { "content-security-policy": CONSOLE_CSP, "referrer-policy": "no-referrer" }
        : {}),
    };
    return new Response(req.method === "HEAD" ? null : body as Uint8Array<ArrayBuffer>, { headers });
  };
}

/** No CDN, no inline script: the console loads only its own files and talks to the API it is configured for. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src *; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
