/**
 * The runbook's Step 4 (`supabase functions deploy`), run with the pinned CLI against a mock Management API
 * (tests/support/management_api_mock.ts), then each upload type-checked the way the hosted bundler sees it:
 * only the uploaded files, in an empty folder, with the import map the upload names (`deno check --no-config`,
 * so no deno.json from anywhere else is found).
 *
 * What this caught before: the CLI never reads the root deno.json, so every upload carried no import map and
 * failed on `Import "zod" not a dependency`, while everything local passed. It fails again when a function has
 * no `import_map` in supabase/config.toml, when a function imports a package that supabase/import_map.json
 * does not map (or a file the CLI does not upload), when supabase/import_map.json drifts from deno.json, and
 * when an upload's verify_jwt differs from config.toml.
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { expectedImportMap, IMPORT_MAP_PATH } from "../../../local/import_map.ts";
import { createRegistry, type FunctionEntry } from "../../../local/gateway/functions/registry.ts";
import { REPO_ROOT, TOOLS_BIN } from "../../../local/paths.ts";
import {
  type DeployUpload,
  MOCK_ACCESS_TOKEN,
  startMockManagementApi,
} from "../../support/management_api_mock.ts";

const PROJECT_REF = "deploytestprojectref";

function projectFunctions(): FunctionEntry[] {
  return createRegistry({
    functionsDir: join(REPO_ROOT, "supabase", "functions"),
    configToml: join(REPO_ROOT, "supabase", "config.toml"),
    extraFunctionsDir: null,
  }).list();
}

async function runDeploy(apiUrl: string): Promise<{ code: number; output: string }> {
  const home = await Deno.makeTempDir({ prefix: "deploy-home-" });
  try {
    const profile = join(home, "profile.yaml");
    await Deno.writeTextFile(
      profile,
      [`name: deploy-test`, `api_url: ${apiUrl}`, `dashboard_url: ${apiUrl}`, `project_host: supabase.co`]
        .join(
          "\n",
        ) + "\n",
    );
    const out = await new Deno.Command(join(TOOLS_BIN, "supabase"), {
      args: ["functions", "deploy", "--use-api", "--project-ref", PROJECT_REF, "--profile", profile],
      cwd: REPO_ROOT,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        SUPABASE_ACCESS_TOKEN: MOCK_ACCESS_TOKEN,
        DO_NOT_TRACK: "1",
        SUPABASE_TELEMETRY_DISABLED: "1",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** Writes exactly the uploaded files into an empty folder and type-checks the entrypoint there. */
async function checkUpload(upload: DeployUpload): Promise<{ code: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: `deploy-${upload.slug}-` });
  try {
    for (const [name, bytes] of upload.files) {
      assert.ok(!name.startsWith("/") && !name.split("/").includes(".."), `${name} stays inside the bundle`);
      await Deno.mkdir(join(dir, dirname(name)), { recursive: true });
      await Deno.writeFile(join(dir, name), bytes);
    }
    const args = ["check", "--no-config", "--no-lock", "--quiet"];
    if (upload.metadata.import_map_path !== "") {
      args.push("--import-map", join(dir, upload.metadata.import_map_path));
    }
    args.push(join(dir, upload.metadata.entrypoint_path));
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("supabase/import_map.json holds exactly deno.json's imports (deno task import-map)", async () => {
  assert.equal(await Deno.readTextFile(IMPORT_MAP_PATH), expectedImportMap());
});

Deno.test({
  name: "supabase functions deploy uploads, for every function, files that type-check with its import map",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const functions = projectFunctions();
    assert.ok(functions.length >= 5, "the project's functions are found");
    const api = startMockManagementApi(PROJECT_REF);
    let uploads: DeployUpload[];
    try {
      const res = await runDeploy(api.url);
      assert.equal(res.code, 0, `supabase functions deploy failed:\n${res.output}`);
      assert.doesNotMatch(res.output, /fallback import map/, "no function relies on the deprecated fallback");
      assert.deepEqual(api.unexpected, [], "the CLI made only the calls the mock knows");
      uploads = [...api.uploads];
    } finally {
      await api.close();
    }
    assert.deepEqual(
      uploads.map((u) => u.slug).sort(),
      functions.map((f) => f.name).sort(),
      "one upload per function folder",
    );

    for (const fn of functions) {
      const upload = uploads.find((u) => u.slug === fn.name);
      assert.ok(upload);
      await t.step(`${fn.name}: metadata matches supabase/config.toml`, () => {
        assert.equal(upload.metadata.verify_jwt, fn.verifyJwt, "verify_jwt");
        assert.equal(upload.metadata.entrypoint_path, relative(REPO_ROOT, fn.entrypoint), "entrypoint");
        assert.ok(fn.importMap, `[functions.${fn.name}] import_map is set in supabase/config.toml`);
        assert.equal(upload.metadata.import_map_path, relative(REPO_ROOT, fn.importMap), "import map path");
        assert.ok(upload.files.has(upload.metadata.import_map_path), "the import map is uploaded");
        assert.ok(upload.files.has(upload.metadata.entrypoint_path), "the entrypoint is uploaded");
      });
    }

    // Two at a time: each check is one Deno process (the machine has 2 cores).
    const results = new Map<string, { code: number; output: string }>();
    const queue = [...uploads];
    await Promise.all([0, 1].map(async () => {
      for (let u = queue.shift(); u; u = queue.shift()) results.set(u.slug, await checkUpload(u));
    }));
    for (const fn of functions) {
      await t.step(`${fn.name}: the uploaded files type-check on their own`, () => {
        const res = results.get(fn.name);
        assert.ok(res);
        assert.equal(res.code, 0, `deno check of the upload failed:\n${res.output}`);
      });
    }
  },
});
