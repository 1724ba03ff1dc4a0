/**
 * `deno task import-map`: writes supabase/import_map.json, the import map every function deploys with, from the
 * `imports` of the root deno.json (the one place versions are set). `--check` only compares and exits 1 when
 * the file is out of date (the deploy test runs the same comparison).
 *
 * Why a separate file: `supabase functions deploy` never reads the root deno.json; it uploads the import map
 * named by `[functions.<name>] import_map` in supabase/config.toml. The root deno.json also carries tasks, fmt,
 * lint and `nodeModulesDir`, which mean nothing to the hosted bundler, so functions get a file that holds only
 * `imports` (docs/RUNBOOK.md, "Import maps").
 */
import { join } from "node:path";
import { parseCli } from "./parse_cli.ts";
import { REPO_ROOT } from "./paths.ts";

export const IMPORT_MAP_PATH = join(REPO_ROOT, "supabase", "import_map.json");

/** The deploy import map's text for the given root deno.json text: its `imports`, nothing else. */
export function importMapText(denoJsonText: string): string {
  const parsed: unknown = JSON.parse(denoJsonText);
  const imports = typeof parsed === "object" && parsed !== null && "imports" in parsed
    ? (parsed as { imports: unknown }).imports
    : {};
  return JSON.stringify({ imports }, null, 2) + "\n";
}

export function expectedImportMap(): string {
  return importMapText(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
}

if (import.meta.main) {
  const { values } = parseCli("import-map", import.meta.url, { check: { type: "boolean", default: false } });
  const expected = expectedImportMap();
  let current: string | null = null;
  try {
    current = Deno.readTextFileSync(IMPORT_MAP_PATH);
  } catch {
    current = null;
  }
  if (values.check) {
    if (current !== expected) {
      console.error("supabase/import_map.json differs from deno.json's imports: run `deno task import-map`");
      Deno.exit(1);
    }
    console.log("supabase/import_map.json matches deno.json's imports");
  } else if (current === expected) {
    console.log("supabase/import_map.json is up to date");
  } else {
    Deno.writeTextFileSync(IMPORT_MAP_PATH, expected);
    console.log("wrote supabase/import_map.json from deno.json's imports");
  }
}
