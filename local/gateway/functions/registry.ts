/**
 * Which functions exist and how each is configured, read fresh on every request (a stat and a cached parse),
 * so a new function folder or a config.toml edit is picked up without restarting the stack.
 *
 * A function is a folder of supabase/functions whose name does not start with `_` and that holds its
 * entrypoint (`index.ts`, or `entrypoint` from config.toml). With LOCAL_EXTRA_FUNCTIONS_DIR set, that folder's
 * functions are served too, configured by a `config.toml` beside them in the same `[functions.<name>]` format;
 * a name that exists in supabase/functions is never shadowed by a test-only one.
 *
 * config.toml is read with a small parser for the keys this needs (`[functions.<name>]` tables with
 * `enabled`, `verify_jwt`, `entrypoint`, `import_map`, and the local-only `wall_clock_limit_ms`), not a full TOML parser.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface FunctionConfig {
  enabled: boolean;
  verifyJwt: boolean;
  entrypoint: string | null;
  /** `import_map` (relative to the config.toml's folder), as `supabase functions deploy` reads it. */
  importMap: string | null;
  /** Local-only override of the wall-clock limit (fixtures use it to test 546 quickly). */
  wallClockLimitMs: number | null;
}

export interface FunctionEntry {
  name: string;
  entrypoint: string;
  dir: string;
  verifyJwt: boolean;
  /** The import map the function deploys with (absolute), or null: then it resolves no bare specifiers. */
  importMap: string | null;
  wallClockLimitMs: number | null;
  source: "project" | "extra";
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Parses the `[functions.<name>]` tables of a config.toml. Unknown tables and keys are ignored. */
export function parseFunctionsToml(text: string, baseDir: string): Map<string, FunctionConfig> {
  const out = new Map<string, FunctionConfig>();
  let current: FunctionConfig | null = null;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/\s+#.*$/, "").replace(/^#.*$/, "").trim();
    if (line === "") continue;
    const table = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
    if (table) {
      const m = /^functions\.(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))$/.exec(table[1]);
      if (m) {
        const name = m[1] ?? m[2] ?? m[3];
        current = out.get(name) ??
          { enabled: true, verifyJwt: true, entrypoint: null, importMap: null, wallClockLimitMs: null };
        out.set(name, current);
      } else {
        current = null;
      }
      continue;
    }
    if (!current) continue;
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    const str = /^"(.*)"$|^'(.*)'$/.exec(value);
    if (key === "verify_jwt" && /^(true|false)$/.test(value)) current.verifyJwt = value === "true";
    else if (key === "enabled" && /^(true|false)$/.test(value)) current.enabled = value === "true";
    else if (key === "entrypoint" && str) current.entrypoint = resolve(baseDir, str[1] ?? str[2]);
    else if (key === "import_map" && str) current.importMap = resolve(baseDir, str[1] ?? str[2]);
    else if (key === "wall_clock_limit_ms" && /^\d+$/.test(value)) current.wallClockLimitMs = Number(value);
  }
  return out;
}

const tomlCache = new Map<string, { mtimeMs: number; parsed: Map<string, FunctionConfig> }>();

function readToml(path: string): Map<string, FunctionConfig> {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return new Map();
  }
  const cached = tomlCache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.parsed;
  const parsed = parseFunctionsToml(Deno.readTextFileSync(path), dirname(path));
  tomlCache.set(path, { mtimeMs, parsed });
  return parsed;
}

function entryFor(
  name: string,
  dir: string,
  config: FunctionConfig | undefined,
  source: FunctionEntry["source"],
): FunctionEntry | null {
  if (!NAME.test(name) || name.startsWith("_")) return null;
  if (config && !config.enabled) return null;
  const entrypoint = config?.entrypoint ?? join(dir, name, "index.ts");
  if (!existsSync(entrypoint)) return null;
  return {
    name,
    entrypoint,
    dir: join(dir, name),
    verifyJwt: config?.verifyJwt ?? true,
    importMap: config?.importMap ?? null,
    wallClockLimitMs: config?.wallClockLimitMs ?? null,
    source,
  };
}

export interface Registry {
  find(name: string): FunctionEntry | null;
  list(): FunctionEntry[];
}

export function createRegistry(opts: {
  functionsDir: string;
  configToml: string;
  extraFunctionsDir: string | null;
}): Registry {
  const find = (name: string): FunctionEntry | null => {
    const project = entryFor(name, opts.functionsDir, readToml(opts.configToml).get(name), "project");
    if (project) return project;
    if (!opts.extraFunctionsDir) return null;
    return entryFor(
      name,
      opts.extraFunctionsDir,
      readToml(join(opts.extraFunctionsDir, "config.toml")).get(name),
      "extra",
    );
  };
  const namesIn = (dir: string | null): string[] => {
    if (!dir) return [];
    try {
      return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return [];
    }
  };
  return {
    find,
    list() {
      const names = new Set([...namesIn(opts.functionsDir), ...namesIn(opts.extraFunctionsDir)]);
      return [...names].sort().map(find).filter((e): e is FunctionEntry => e !== null);
    },
  };
}
