/**
 * Every file in shared/ has its unit test (issue 18, "each shared file has its unit test").
 *
 * The pairing rule (docs/DEVELOPMENT.md "Unit tests for shared/"): `shared/<path>/<name>.ts` is paired with
 * `tests/unit/<path>/<name>_test.ts`, the layout of STYLE.md §9, and that test imports the file — directly, or
 * through its folder's `mod.ts` (which re-exports the same bindings; `tests/unit/parse/mod_test.ts` checks that).
 * A test named after a file but importing something else does not count: it would pass with the file deleted.
 *
 * Exempt: type-only modules (ports and records such as `parse_flow/parse_queue.ts`). They have nothing to run;
 * the compiler checks them (`deno check .`) and the fakes in tests/unit implement them. "Type-only" is not a list
 * kept by hand: the module is imported and must export no runtime value, so adding a function or a constant to a
 * port file makes this test ask for its paired test.
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { resolvedImports, ROOT, sharedFiles, walk } from "./_repo.ts";

/** `shared/parse/extract.ts` → `tests/unit/parse/extract_test.ts`. */
function pairedTestOf(file: string): string {
  return `tests/unit/${file.slice("shared/".length, -".ts".length)}_test.ts`;
}

/** Relative import specifiers that may stand for `file` in its paired test. */
function acceptedImports(file: string): string[] {
  const accepted = [file];
  const folder = file.slice(0, file.lastIndexOf("/"));
  if (folder !== "shared") accepted.push(`${folder}/mod.ts`);
  return accepted;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(`${ROOT}${path}`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function isTypeOnly(file: string): Promise<boolean> {
  const module = await import(pathToFileURL(`${ROOT}${file}`).href);
  return Object.keys(module).length === 0;
}

/** Whether a file under tests/integration/ (or a helper of one) imports `file` directly. */
async function integrationTestImports(file: string): Promise<boolean> {
  for await (const path of walk("tests/integration")) {
    if (resolvedImports(path, await Deno.readTextFile(`${ROOT}${path}`)).includes(file)) return true;
  }
  return false;
}

Deno.test("every shared/ file has a paired unit test that imports it", async () => {
  const problems: string[] = [];
  for (const file of await sharedFiles()) {
    const test = pairedTestOf(file);
    const source = await readIfExists(test);
    if (source === null) {
      if (await isTypeOnly(file)) continue;
      // An adapter's test is the one against the real service (PostgreSQL, Storage, a webhook listener): a test
      // under tests/integration/ (or a helper of one) that imports it directly counts as its pair.
      if (file.startsWith("shared/adapters/") && await integrationTestImports(file)) continue;
      problems.push(`${file}: no ${test}`);
      continue;
    }
    const resolved = resolvedImports(test, source);
    if (!acceptedImports(file).some((a) => resolved.includes(a))) {
      problems.push(`${file}: ${test} does not import it`);
    }
  }
  assert.deepEqual(problems, [], `shared files without a paired unit test:\n${problems.join("\n")}`);
});

Deno.test("pairedTestOf() mirrors the path under tests/unit and adds _test", () => {
  assert.equal(pairedTestOf("shared/parse/extract.ts"), "tests/unit/parse/extract_test.ts");
  assert.equal(pairedTestOf("shared/log.ts"), "tests/unit/log_test.ts");
  assert.equal(pairedTestOf("shared/parse/_chars.ts"), "tests/unit/parse/_chars_test.ts");
});

Deno.test("the type-only exemption holds only for modules without runtime exports", async () => {
  assert.equal(await isTypeOnly("shared/parse_flow/parse_queue.ts"), true);
  assert.equal(await isTypeOnly("shared/provenance.ts"), false);
});
