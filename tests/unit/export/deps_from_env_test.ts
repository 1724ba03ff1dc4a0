import assert from "node:assert/strict";
import { exportDepsFromEnv } from "../../../shared/export/deps_from_env.ts";

const PLATFORM = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
};
const env = (vars: Record<string, string>) => ({ get: (k: string) => ({ ...PLATFORM, ...vars })[k] });

Deno.test("exportDepsFromEnv() builds the bulk Storage source with the default page settings", () => {
  const deps = exportDepsFromEnv(env({}));
  assert.deepEqual([deps.pageSize, deps.concurrency, deps.serviceKeys], [500, 16, ["service-key"]]);
  assert.equal(typeof deps.source.downloadMany, "function");
  assert.equal(exportDepsFromEnv(env({ EXPORT_CONCURRENCY: "32" })).concurrency, 32);
});

Deno.test("exportDepsFromEnv() fails at boot on a bad page setting", () => {
  assert.throws(() => exportDepsFromEnv(env({ EXPORT_PAGE_SIZE: "0" })), /EXPORT_PAGE_SIZE/);
  assert.throws(() => exportDepsFromEnv(env({ EXPORT_CONCURRENCY: "100" })), /EXPORT_CONCURRENCY/);
  assert.throws(() => exportDepsFromEnv(env({ EXPORT_CONCURRENCY: "2.5" })), /EXPORT_CONCURRENCY/);
});
