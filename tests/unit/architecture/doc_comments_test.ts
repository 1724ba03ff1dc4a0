/**
 * Every exported function in shared/ has its own doc comment (issue 18: "says why or what it guarantees").
 *
 * The list of exported functions comes from `deno doc --json` (functions, and constants whose type is a
 * function), not from a regular expression. A comment counts only when it ends on the line directly above the
 * declaration: `deno doc` also attaches a module's header comment to the first export below it, across a blank
 * line, and a header is not the function's own comment. Whether the comment says something worth saying is for
 * review; this test keeps a new export from arriving with none.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ROOT, sharedFiles } from "./_repo.ts";

interface DocDeclaration {
  declarationKind: string;
  kind: string;
  location: { filename: string; line: number };
  def?: { tsType?: { kind?: string } };
}

interface ExportedFunction {
  file: string;
  name: string;
  line: number;
}

async function exportedFunctions(files: string[]): Promise<ExportedFunction[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", ...files],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, "deno doc --json failed");
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    nodes: Record<string, { symbols?: { name: string; declarations: DocDeclaration[] }[] }>;
  };
  const found: ExportedFunction[] = [];
  for (const [url, node] of Object.entries(doc.nodes)) {
    const file = fileURLToPath(url).slice(ROOT.length);
    for (const symbol of node.symbols ?? []) {
      for (const d of symbol.declarations) {
        // Re-exports (mod.ts) are documented where they are declared.
        if (d.declarationKind !== "export" || fileURLToPath(d.location.filename) !== `${ROOT}${file}`) {
          continue;
        }
        const isFunction = d.kind === "function" ||
          (d.kind === "variable" && d.def?.tsType?.kind === "fnOrConstructor");
        // deno doc counts lines from 0.
        if (isFunction) found.push({ file, name: symbol.name, line: d.location.line + 1 });
      }
    }
  }
  return found;
}

/** Whether the line directly above `line` (1-based) closes a `/** … *\/` comment. */
function hasOwnDocComment(source: string, line: number): boolean {
  const lines = source.split("\n");
  const above = lines[line - 2]?.trim() ?? "";
  if (!above.endsWith("*/")) return false;
  for (let i = line - 2; i >= 0; i--) {
    const text = lines[i].trim();
    if (text.startsWith("/**")) return true;
    if (text.startsWith("/*")) return false; // a plain block comment, not a doc comment
  }
  return false;
}

Deno.test("every exported function in shared/ has a doc comment directly above it", async () => {
  const files = await sharedFiles();
  const functions = await exportedFunctions(files);
  assert.ok(functions.length > 50, `found only ${functions.length} exported functions: is deno doc working?`);
  const missing: string[] = [];
  for (const f of functions) {
    const source = await Deno.readTextFile(`${ROOT}${f.file}`);
    if (!hasOwnDocComment(source, f.line)) missing.push(`${f.file}:${f.line} ${f.name}`);
  }
  assert.deepEqual(missing, [], `exported functions without a doc comment:\n${missing.join("\n")}`);
});

Deno.test("hasOwnDocComment() takes a comment on the line above, not a header across a blank line", () => {
  assert.equal(hasOwnDocComment("/** Why. */\nexport function f() {}", 2), true);
  assert.equal(hasOwnDocComment("/**\n * Why.\n */\nexport function f() {}", 4), true);
  assert.equal(hasOwnDocComment("/** Header. */\n\nexport function f() {}", 3), false);
  assert.equal(hasOwnDocComment("/* not a doc comment */\nexport function f() {}", 2), false);
  assert.equal(hasOwnDocComment("// line comment\nexport function f() {}", 2), false);
  assert.equal(hasOwnDocComment("export function f() {}", 1), false);
});
