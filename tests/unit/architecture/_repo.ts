/**
 * What the architecture tests read of the repository: its TypeScript files and their relative imports. One
 * scanner for the import-graph, pairing and doc-comment rules, so the three cannot disagree on what a file or an
 * import is.
 */
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, with a trailing slash (`${ROOT}${path}` is a file's absolute path). */
export const ROOT: string = fileURLToPath(new URL("../../../", import.meta.url));

/** Repository-relative paths of the .ts/.tsx files under `dir` (node_modules and dot folders skipped). */
export async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      yield* walk(path);
    } else if (entry.isFile && /\.(ts|tsx)$/.test(entry.name)) {
      yield path;
    }
  }
}

/** Every file of `shared/`, sorted. */
export async function sharedFiles(): Promise<string[]> {
  const out: string[] = [];
  for await (const file of walk("shared")) out.push(file);
  return out.sort();
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

/** Every relative specifier of a source text (comments stripped first, so examples in them do not count). */
export function relativeSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  return [...code.matchAll(SPECIFIER)].map((m) => m[1]);
}

/** The repository-relative files that `file`'s source imports by relative specifier. */
export function resolvedImports(file: string, source: string): string[] {
  return relativeSpecifiers(source).map((spec) => relative(ROOT, normalize(join(ROOT, dirname(file), spec))));
}
