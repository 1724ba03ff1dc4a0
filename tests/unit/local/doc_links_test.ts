import assert from "node:assert/strict";
import { join } from "node:path";
import { checkRepository, findOutsideLinks } from "../../../local/doc_links.ts";

Deno.test("findOutsideLinks() flags paths next to the checkout, machine paths and URL links; not repo paths", () => {
  const root = Deno.makeTempDirSync();
  Deno.mkdirSync(join(root, "docs"));
  Deno.mkdirSync(join(root, "shared", "parse"), { recursive: true });
  Deno.writeTextFileSync(join(root, "shared", "parse", "mod.ts"), "");
  Deno.writeTextFileSync(join(root, "README.md"), "");
  const md = [
    "See `../shared/seed/` and [the ref](../shared/reference/x.md).",
    "Fine: [runbook](RUNBOOK.md), `docs/RUNBOOK.md`, [up](../README.md).",
    "Out: [docs](https://supabase.com/docs) and /work/shared/DESIGN.md.",
  ].join("\n");
  const found = findOutsideLinks(root, "docs/GUIDE.md", md).map((f) => [f.line, f.text, f.why]);
  assert.deepEqual(found, [
    [1, "../shared/seed/", "a path outside the repository"],
    [1, "../shared/reference/x.md", "a path outside the repository"],
    [3, "/work/shared/DESIGN.md", "an absolute path on one machine"],
    [3, "https://supabase.com/docs", "a link leaving the repository"],
  ]);
  const code = [
    '/** Notes in ../shared/reference/platform.md; callers import "../shared/parse/mod.ts". */',
    'const evil = "../../../../etc/passwd"; // test data in code is not a link',
  ].join("\n");
  assert.deepEqual(findOutsideLinks(root, "shared/parse/x.ts", code).map((f) => f.text), [
    "../shared/reference/platform.md",
  ]);
  Deno.removeSync(root, { recursive: true });
});

Deno.test("the repository's docs and comments stay inside it", async () => {
  assert.deepEqual(await checkRepository(), []);
});
