/**
 * deno task console [--port N] [--url URL --anon-key KEY]
 *
 * Builds the review console into a temporary folder and serves it at http://127.0.0.1:<port>, against the
 * local stack or, with --url and --anon-key, a hosted project (its functions answer CORS; sign in with a
 * project user). The local stack already serves the console at LOCAL_CONSOLE_PORT (54323); this command is for
 * another project or a second copy while you edit console/ (restart it to rebuild).
 *
 *   --port N          the port (default LOCAL_CONSOLE_PORT + 1: 54324)
 *   --url URL         the project's URL; default: the local stack's
 *   --anon-key KEY    the project's anon (or publishable) key; given with --url
 *
 * Runs until interrupted. Exit status: 1 bundling failed or the port is taken; 2 bad arguments.
 */
import { buildConsole } from "../local/console_build.ts";
import { consoleTarget } from "../local/console_target.ts";
import { serveConsoleFiles } from "../local/gateway/console_files.ts";
import { parseCli } from "../local/parse_cli.ts";
import { CONSOLE_PORT } from "../local/paths.ts";

if (import.meta.main) {
  const { values } = parseCli("console", import.meta.url, {
    port: { type: "string" },
    url: { type: "string" },
    "anon-key": { type: "string" },
  });
  const port = Number(values.port ?? CONSOLE_PORT + 1);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`console: --port ${values.port}: must be a port number`);
    Deno.exit(2);
  }
  const target = consoleTarget(values);
  if (!target.ok) {
    console.error(`console: ${target.message}`);
    Deno.exit(2);
  }
  const dir = await Deno.makeTempDir({ prefix: "review-console-" });
  try {
    await buildConsole(dir, target.config);
    Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: () =>
        console.log(`Review console: http://127.0.0.1:${port} (API ${target.config.supabaseUrl})`),
    }, serveConsoleFiles(dir));
  } catch (err) {
    console.error(`console: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
