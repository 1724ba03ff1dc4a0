/**
 * The rule of the arrows between the top-level folders (issue 18, "local/ and cli/ untangled"):
 *
 *   supabase/functions/ → shared/          the deployed code; shared/ imports nothing of ours outside itself
 *   local/ → shared/                        the local stack and the library every command needs
 *   cli/, bench/, tests/support/ → local/, shared/ (cli/chaos.ts and bench/ also use tests/support/)
 *
 * Before, local/stack.ts imported cli/secrets_sync.ts and local/main.ts cli/health.ts while cli/ imported
 * local/paths.ts: a loop, so neither folder could be read (or moved) alone. The check reads the static import
 * graph of every module in those folders with `deno info --json` (one call over a module importing them all)
 * and fails on any loop between folders and on any arrow out of shared/.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { REPO_ROOT } from "../../local/paths.ts";

const GROUPS = ["supabase/functions", "tests/support", "shared", "local", "cli", "bench"] as const;

/** The folder group of a repository-relative path, or null for files outside the checked folders. */
function groupOf(path: string): string | null {
  return GROUPS.find((g) => path === g || path.startsWith(g + "/")) ?? null;
}

/** Folder loops: the strongly connected components with more than one folder (Tarjan). */
export function folderLoops(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier?: string }; type?: { specifier?: string } }[];
}

async function folderEdges(): Promise<{ edges: Map<string, Set<string>>; why: Map<string, string> }> {
  const files = new TextDecoder().decode(
    (await new Deno.Command("git", {
      args: ["ls-files", "--cached", "--others", "--exclude-standard", "--", ...GROUPS],
      cwd: REPO_ROOT,
      stdout: "piped",
    }).output()).stdout,
  ).split("\n").filter((f) => /\.(ts|tsx|mts)$/.test(f) && !f.endsWith(".d.ts"));
  const root = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      root,
      files.map((f) => `import ${JSON.stringify(new URL(f, `file://${REPO_ROOT}/`).href)};`).join("\n"),
    );
    const res = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", root],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
    const info = JSON.parse(new TextDecoder().decode(res.stdout)) as { modules: InfoModule[] };
    const edges = new Map<string, Set<string>>(GROUPS.map((g) => [g, new Set<string>()]));
    const why = new Map<string, string>();
    const rel = (spec: string) =>
      spec.startsWith("file://") ? relative(REPO_ROOT, new URL(spec).pathname) : null;
    for (const m of info.modules) {
      const from = rel(m.specifier);
      const a = from === null ? null : groupOf(from);
      if (a === null) continue;
      for (const d of m.dependencies ?? []) {
        for (const target of [d.code?.specifier, d.type?.specifier]) {
          const to = target === undefined ? null : rel(target);
          const b = to === null ? null : groupOf(to);
          if (b === null || b === a) continue;
          edges.get(a)!.add(b);
          if (!why.has(`${a}→${b}`)) why.set(`${a}→${b}`, `${from} imports ${to}`);
        }
      }
    }
    return { edges, why };
  } finally {
    await Deno.remove(root);
  }
}

Deno.test("folderLoops() finds a two-folder loop and a three-folder loop, and none in a tree", () => {
  const g = (e: Record<string, string[]>) => new Map(Object.entries(e).map(([k, v]) => [k, new Set(v)]));
  assert.deepEqual(folderLoops(g({ local: ["cli", "shared"], cli: ["local"], shared: [] })), [[
    "cli",
    "local",
  ]]);
  assert.deepEqual(folderLoops(g({ a: ["b"], b: ["c"], c: ["a"] })), [["a", "b", "c"]]);
  assert.deepEqual(folderLoops(g({ cli: ["local", "shared"], local: ["shared"], shared: [] })), []);
});

Deno.test("the import graph has no loop between local/, cli/, bench/, tests/support/, shared/, supabase/functions/", async () => {
  const { edges, why } = await folderEdges();
  const loops = folderLoops(edges);
  const arrows = [...why.entries()].map(([k, v]) => `${k} (e.g. ${v})`).join("\n");
  assert.deepEqual(loops, [], `folder loops found; the arrows between folders are:\n${arrows}`);
  // The arrows this layout is known to have: a sign that the graph was read at all.
  assert.ok(edges.get("cli")!.has("local"), arrows);
  assert.ok(edges.get("supabase/functions")!.has("shared"), arrows);
});

Deno.test("shared/ imports nothing of ours outside shared/ (the domain and its adapters are a leaf)", async () => {
  const { edges, why } = await folderEdges();
  const out = [...edges.get("shared")!].map((b) => why.get(`shared→${b}`));
  assert.deepEqual(out, []);
});
