/**
 * The browser the console's tests drive: Debian's `chromium`, installed with apt-get when missing (as root;
 * otherwise the error says which command to run), like local/db.ts installs the PostgreSQL packages.
 * playwright-core and axe-core come from tools/ (npm; bin/_setup.sh installs them).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";
import { runOk } from "./proc.ts";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The chromium executable's path; installs the Debian package first when it is missing and we are root. */
export async function ensureChromium(): Promise<string> {
  if (exists(CHROMIUM)) return CHROMIUM;
  if (Deno.uid() !== 0) {
    throw new Error(
      `Cannot find ${CHROMIUM}: install it with "sudo apt-get install -y chromium" and run again`,
    );
  }
  console.error("[browser] installing the Debian package chromium");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await runOk("apt-get", ["update", "-qq"], { env, quiet: true });
  await runOk("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
    env,
    quiet: true,
  });
  if (!exists(CHROMIUM)) throw new Error(`Cannot find ${CHROMIUM} after apt-get install chromium`);
  return CHROMIUM;
}

/** A CommonJS package installed in tools/node_modules (playwright-core, axe-core). */
export function toolsRequire(name: string): unknown {
  return createRequire(join(REPO_ROOT, "tools", "node_modules", "/"))(name);
}
