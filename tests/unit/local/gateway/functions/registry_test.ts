import assert from "node:assert/strict";
import { join } from "node:path";
import { createRegistry, parseFunctionsToml } from "../../../../../local/gateway/functions/registry.ts";

Deno.test("parseFunctionsToml() reads [functions.<name>] tables and ignores everything else", () => {
  const parsed = parseFunctionsToml(
    [
      "[api]",
      "verify_jwt = false # not a function table",
      "[functions.parse-conversation]",
      "verify_jwt = false",
      '[functions."quoted-name"]',
      "enabled = false",
      "[functions.custom]",
      'entrypoint = "./functions/custom/main.ts"',
      'import_map = "./import_map.json"',
      "wall_clock_limit_ms = 2500",
      "[functions.custom.secrets]",
      "verify_jwt = false",
    ].join("\n"),
    "/proj/supabase",
  );
  assert.deepEqual([...parsed.keys()], ["parse-conversation", "quoted-name", "custom"]);
  assert.equal(parsed.get("parse-conversation")?.verifyJwt, false);
  assert.equal(parsed.get("quoted-name")?.enabled, false);
  assert.equal(parsed.get("custom")?.verifyJwt, true, "a sub-table's keys do not leak into the function");
  assert.equal(parsed.get("custom")?.entrypoint, "/proj/supabase/functions/custom/main.ts");
  assert.equal(parsed.get("custom")?.wallClockLimitMs, 2500);
  assert.equal(parsed.get("custom")?.importMap, "/proj/supabase/import_map.json");
  assert.equal(parsed.get("parse-conversation")?.importMap, null);
});

Deno.test("createRegistry() serves project functions, then extra ones, never _ folders or shadowed names", () => {
  const root = Deno.makeTempDirSync();
  const project = join(root, "functions");
  const extra = join(root, "extra");
  for (const [dir, name] of [[project, "alpha"], [project, "_shared"], [extra, "alpha"], [extra, "beta"]]) {
    Deno.mkdirSync(join(dir, name), { recursive: true });
    Deno.writeTextFileSync(join(dir, name, "index.ts"), "Deno.serve(() => new Response());");
  }
  Deno.mkdirSync(join(project, "no-entry"));
  Deno.writeTextFileSync(join(root, "config.toml"), "[functions.alpha]\nverify_jwt = false\n");
  Deno.writeTextFileSync(join(extra, "config.toml"), "[functions.beta]\nverify_jwt = false\n");
  const reg = createRegistry({
    functionsDir: project,
    configToml: join(root, "config.toml"),
    extraFunctionsDir: extra,
  });
  assert.deepEqual(reg.list().map((f) => [f.name, f.source, f.verifyJwt]), [
    ["alpha", "project", false],
    ["beta", "extra", false],
  ]);
  assert.equal(reg.find("_shared"), null);
  assert.equal(reg.find("no-entry"), null);
  assert.equal(reg.find("../functions/alpha"), null);
  const without = createRegistry({
    functionsDir: project,
    configToml: join(root, "config.toml"),
    extraFunctionsDir: null,
  });
  assert.equal(without.find("beta"), null, "test-only functions need LOCAL_EXTRA_FUNCTIONS_DIR");
  Deno.removeSync(root, { recursive: true });
});
