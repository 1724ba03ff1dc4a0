/**
 * The rule of the arrows (docs/ARCHITECTURE.md), checked over the real import graph: every relative import
 * specifier (static `import`/`export … from`, and `import("…")`) in the code folders, resolved to a file.
 *
 * 1. No arrow from the domain (shared/, except shared/adapters/ and the entry wiring `deps_from_env.ts`) into
 *    shared/adapters/: the domain owns its ports, adapters implement them.
 * 2. No loop between the top-level folders (local/, cli/, shared/, supabase/functions/, bench/, tests/support/),
 *    and no arrow out of shared/: the domain and its adapters are a leaf.
 * 3. No loop between shared/'s folders (the wiring files belong to the entry layer, not to their folder).
 *
 * A static scan rather than `deno info --json`: it reads the same specifiers without type-checking or
 * resolving npm packages, and runs in well under a second. Known exceptions are listed by name with the issue
 * that removes them; a new arrow or loop fails the test with the files that make it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { relativeSpecifiers, resolvedImports, ROOT, walk } from "./_repo.ts";

const TOP_FOLDERS = ["local", "cli", "shared", "supabase/functions", "bench", "tests/support"] as const;

/** Domain files that still import an adapter, each with the change that removes the arrow. */
const KNOWN_DOMAIN_TO_ADAPTER: ReadonlyArray<readonly [string, string]> = [
  // generate.ts's own SQLSTATE checks (isTransientDbError/translateDbError before Claude): generate's body is
  // issue-15b's (named phases). Translate in postgres_conversation_repo.ts like the parse queue, then delete.
  ["shared/generate/generate.ts", "shared/adapters/postgres_sql.ts"],
];

/** Folder loops that still exist, each with the change that removes it. */
const KNOWN_FOLDER_LOOPS: ReadonlyArray<readonly [string, string]> = [];

/** Shared-folder loops that still exist: only the one the generate exception above makes. */
const KNOWN_SHARED_LOOPS: ReadonlyArray<readonly [string, string]> = [
  // generate → adapters (the exception above) and adapters → generate (the Claude and usage-limit adapters
  // implement generate's ports): goes with KNOWN_DOMAIN_TO_ADAPTER.
  ["shared/adapters", "shared/generate"],
  // Issue 20: batch uses generate's request, prompt and cost (batch → generate), so the same exception closes
  // batch → generate → adapters → batch (the batch adapters implement batch's ports). Goes with it too.
  ["shared/adapters", "shared/batch"],
  ["shared/batch", "shared/generate"],
];

interface Edge {
  readonly from: string;
  readonly to: string;
}

async function importGraph(): Promise<Edge[]> {
  const edges: Edge[] = [];
  for (const top of TOP_FOLDERS) {
    for await (const file of walk(top)) {
      for (const to of resolvedImports(file, await Deno.readTextFile(join(ROOT, file)))) {
        edges.push({ from: file, to });
      }
    }
  }
  return edges;
}

function isWiring(file: string): boolean {
  return /^shared\/[^/]+\/deps_from_env\.ts$/.test(file);
}

function isDomain(file: string): boolean {
  return file.startsWith("shared/") && !file.startsWith("shared/adapters/") && !isWiring(file);
}

function topFolderOf(file: string): string | null {
  return TOP_FOLDERS.find((t) => file === t || file.startsWith(`${t}/`)) ?? null;
}

/** shared/<folder> for files in a folder, `shared` for shared/'s own files; null outside shared/ and for wiring. */
function sharedFolderOf(file: string): string | null {
  if (!file.startsWith("shared/") || isWiring(file)) return null;
  const parts = file.split("/");
  return parts.length > 2 ? `shared/${parts[1]}` : "shared";
}

/** Pairs of distinct nodes that reach each other (both directions), sorted, each once. */
export function loops(arrows: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of arrows) {
    if (a === b) continue;
    if (!next.has(a)) next.set(a, new Set());
    next.get(a)!.add(b);
  }
  const reach = (start: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      for (const n of next.get(stack.pop()!) ?? []) {
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
      }
    }
    return seen;
  };
  const nodes = [...next.keys()].sort();
  const reached = new Map(nodes.map((n) => [n, reach(n)]));
  const out: Array<[string, string]> = [];
  for (const a of nodes) {
    for (const b of nodes) {
      if (a < b && reached.get(a)!.has(b) && reached.get(b)?.has(a)) out.push([a, b]);
    }
  }
  return out;
}

function folderArrows(edges: Edge[], folderOf: (f: string) => string | null): Array<[string, string]> {
  const arrows: Array<[string, string]> = [];
  for (const e of edges) {
    const a = folderOf(e.from);
    const b = folderOf(e.to);
    if (a !== null && b !== null && a !== b) arrows.push([a, b]);
  }
  return arrows;
}

function witnesses(edges: Edge[], folderOf: (f: string) => string | null, a: string, b: string): string[] {
  return edges
    .filter((e) => {
      const x = folderOf(e.from);
      const y = folderOf(e.to);
      return (x === a && y === b) || (x === b && y === a);
    })
    .map((e) => `${e.from} → ${e.to}`);
}

const key = ([a, b]: readonly [string, string]) => `${a} ↔ ${b}`;

const graph = await importGraph();

Deno.test("import graph: the scan sees the project's real arrows (a broken scan cannot pass the rules)", () => {
  const has = (from: string, to: string) => graph.some((e) => e.from === from && e.to === to);
  assert.ok(graph.length > 300, `only ${graph.length} imports found`);
  assert.ok(has("supabase/functions/parse-conversation/index.ts", "shared/http/serve.ts"));
  assert.ok(has("shared/adapters/postgres_parse_queue.ts", "shared/adapters/postgres_sql.ts"));
  assert.ok(graph.some((e) => e.from.startsWith("cli/") && e.to.startsWith("local/")), "cli/ → local/");
  for (const e of graph) {
    assert.ok(
      e.to.startsWith("..") || Deno.statSync(join(ROOT, e.to)).isFile,
      `${e.from} imports ${e.to}, which does not exist`,
    );
  }
});

Deno.test("import graph: no domain file imports an adapter (shared/adapters/)", () => {
  const known = new Set(KNOWN_DOMAIN_TO_ADAPTER.map(([a, b]) => `${a} → ${b}`));
  const found = graph
    .filter((e) => isDomain(e.from) && e.to.startsWith("shared/adapters/"))
    .map((e) => `${e.from} → ${e.to}`);
  assert.deepEqual(found.filter((f) => !known.has(f)), [], "domain → adapter arrows");
  for (const k of known) assert.ok(found.includes(k), `known exception no longer exists, delete it: ${k}`);
});

Deno.test("import graph: no loop between the top-level folders", () => {
  const found = loops(folderArrows(graph, topFolderOf));
  const known = new Set(KNOWN_FOLDER_LOOPS.map(key));
  const unexpected = found.filter((l) => !known.has(key(l)));
  assert.deepEqual(
    unexpected.map((l) => ({ loop: key(l), arrows: witnesses(graph, topFolderOf, ...l) })),
    [],
    "folder loops",
  );
});

Deno.test("import graph: shared/ imports nothing of ours outside shared/ (the domain and its adapters are a leaf)", () => {
  const out = graph.filter((e) => e.from.startsWith("shared/") && !e.to.startsWith("shared/"));
  assert.deepEqual(out.map((e) => `${e.from} → ${e.to}`), []);
});

Deno.test("import graph: no loop between shared/'s folders", () => {
  const found = loops(folderArrows(graph, sharedFolderOf));
  const known = new Set(KNOWN_SHARED_LOOPS.map(key));
  const unexpected = found.filter((l) => !known.has(key(l)));
  assert.deepEqual(
    unexpected.map((l) => ({ loop: key(l), arrows: witnesses(graph, sharedFolderOf, ...l) })),
    [],
    "shared/ folder loops",
  );
});

Deno.test("loops() finds a loop through a third folder and ignores one-way arrows", () => {
  assert.deepEqual(loops([["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]]), [["a", "b"], ["a", "c"], [
    "b",
    "c",
  ]]);
  assert.deepEqual(loops([["a", "b"], ["b", "c"], ["a", "a"]]), []);
});

Deno.test("relativeSpecifiers() reads static, re-export and dynamic imports, not comments or packages", () => {
  const src = [
    'import { a } from "./a.ts";',
    'import type {\n  B,\n} from "../b.ts";',
    'export { c } from "./c.ts";',
    'const d = await import("./d.ts");',
    'import "./side_effect.ts";',
    'import { z } from "zod";',
    '// import { e } from "./e.ts";',
    '/** from "./f.ts" */',
  ].join("\n");
  assert.deepEqual(relativeSpecifiers(src), ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./side_effect.ts"]);
});
