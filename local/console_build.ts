/**
 * Builds the review console (console/) into a folder of static files for any host: `deno bundle` (Deno's
 * bundler) makes one minified browser script from console/src/main.ts with its npm dependencies; index.html and
 * app.css are copied; config.json tells the app which project to talk to. No CDN: everything the page loads is
 * in the folder.
 *
 * Used by `deno task console:build` (cli/console_build.ts), `deno task console` (cli/console.ts) and
 * `deno task stack:start` (local/stack.ts builds into `<stateDir>/console` for the gateway's console port).
 */
import { join } from "node:path";
import { z } from "zod";
import { REPO_ROOT } from "./paths.ts";
import { run } from "./proc.ts";

export const CONSOLE_DIR = join(REPO_ROOT, "console");

/** What the app reads from config.json at start: the project URL and its public (anon/publishable) key. */
export const consoleConfigSchema = z.object({
  supabaseUrl: z.url(),
  anonKey: z.string().min(1),
  /** The function the console talks to (default review-queue). */
  functionName: z.string().regex(/^[a-z][a-z0-9-]*$/).default("review-queue"),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

export interface BuildReport {
  outDir: string;
  files: Array<{ name: string; bytes: number; gzipBytes: number }>;
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * Writes index.html, app.js, app.css and config.json into `outDir` (created; files replaced). Throws with
 * deno bundle's output when bundling fails.
 */
export async function buildConsole(outDir: string, config: ConsoleConfig): Promise<BuildReport> {
  const cfg = consoleConfigSchema.parse(config);
  await Deno.mkdir(outDir, { recursive: true });
  const bundled = await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform=browser",
    "--minify",
    "-o",
    join(outDir, "app.js"),
    join(CONSOLE_DIR, "src", "main.ts"),
  ], { cwd: REPO_ROOT, quiet: true });
  if (bundled.code !== 0) {
    throw new Error(`Cannot bundle the console: ${(bundled.stderr || bundled.stdout).trim().slice(0, 2000)}`);
  }
  await Deno.copyFile(join(CONSOLE_DIR, "index.html"), join(outDir, "index.html"));
  await Deno.copyFile(join(CONSOLE_DIR, "app.css"), join(outDir, "app.css"));
  await Deno.writeTextFile(join(outDir, "config.json"), JSON.stringify(cfg, null, 2) + "\n");
  const files = [];
  for (const name of ["index.html", "app.js", "app.css", "config.json"]) {
    const bytes = await Deno.readFile(join(outDir, name));
    files.push({ name, bytes: bytes.byteLength, gzipBytes: await gzipSize(bytes) });
  }
  return { outDir, files };
}
