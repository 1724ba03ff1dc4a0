/**
 * deno task console:build [--out DIR] [--url URL --anon-key KEY]
 *
 * Writes the review console as static files for any host (index.html, app.js, app.css, config.json): one
 * minified script bundled by `deno bundle` with its npm dependencies, no CDN at run time (docs/CONSOLE.md).
 *
 *   --out DIR         where to write (default console/dist; created, files replaced)
 *   --url URL         the project's URL (https://<ref>.supabase.co); default: the local stack's
 *   --anon-key KEY    the project's anon (or publishable) key; given with --url
 *
 * Prints each file with its size and gzipped size. Exit status: 0 built; 1 bundling failed; 2 bad arguments.
 */
import { join } from "node:path";
import { buildConsole, CONSOLE_DIR } from "../local/console_build.ts";
import { consoleTarget } from "../local/console_target.ts";
import { parseCli } from "../local/parse_cli.ts";

if (import.meta.main) {
  const { values } = parseCli("console:build", import.meta.url, {
    out: { type: "string" },
    url: { type: "string" },
    "anon-key": { type: "string" },
  });
  const target = consoleTarget(values);
  if (!target.ok) {
    console.error(`console:build: ${target.message}`);
    Deno.exit(2);
  }
  try {
    const report = await buildConsole(values.out ?? join(CONSOLE_DIR, "dist"), target.config);
    for (const f of report.files) {
      console.log(
        `${f.name.padEnd(12)} ${String(f.bytes).padStart(8)} B  ${String(f.gzipBytes).padStart(7)} B gzipped`,
      );
    }
    console.log(`wrote ${report.outDir} (for ${target.config.supabaseUrl})`);
  } catch (err) {
    console.error(`console:build: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
