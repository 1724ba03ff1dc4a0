import assert from "node:assert/strict";
import { join } from "node:path";
import { gatewayConfig } from "../../../../../local/gateway/config.ts";
import {
  hostedEnv,
  parseDotenv,
  STANDIN_API_KEY,
} from "../../../../../local/gateway/functions/hosted_env.ts";
import type { FunctionEntry } from "../../../../../local/gateway/functions/registry.ts";

const keys = {
  anonKey: "anon.jwt.x",
  serviceRoleKey: "service.jwt.x",
  publishableKey: "sb_publishable_x",
  secretKey: "sb_secret_x",
};
const entry: FunctionEntry = {
  name: "fn",
  entrypoint: "/x/index.ts",
  dir: "/x",
  verifyJwt: true,
  importMap: null,
  wallClockLimitMs: null,
  source: "project",
};

function config(env: Record<string, string>, functionsDir: string) {
  return { ...gatewayConfig((n) => env[n]), functionsDir, functionsDotenv: join(functionsDir, ".env") };
}

Deno.test("parseDotenv() reads quotes, export and comments", () => {
  assert.deepEqual(
    parseDotenv(
      '# c\nexport A=1\nB="two words"\nC=\'single\' \nD=x # trailing\nE="line\\nbreak"\nbad line\n',
    ),
    { A: "1", B: "two words", C: "single", D: "x", E: "line\nbreak" },
  );
});

Deno.test("hostedEnv() gives the platform variables, the stand-in, and .env secrets (never SUPABASE_*)", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(dir, ".env"), "MY_SECRET=s3cret\nSUPABASE_URL=http://evil\n");
  const env = hostedEnv(config({}, dir), keys, entry, "/cache/deno");
  assert.equal(env.MY_SECRET, "s3cret");
  assert.match(env.SUPABASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(env.SUPABASE_SERVICE_ROLE_KEY, "service.jwt.x");
  assert.deepEqual(JSON.parse(env.SUPABASE_SECRET_KEYS), { default: "sb_secret_x" });
  assert.deepEqual(JSON.parse(env.SUPABASE_PUBLISHABLE_KEYS), { default: "sb_publishable_x" });
  assert.equal(env.ANTHROPIC_API_KEY, STANDIN_API_KEY);
  assert.match(env.ANTHROPIC_BASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(env.DENO_DIR, "/cache/deno");
  assert.equal(env.HOME, undefined);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("hostedEnv() with a real ANTHROPIC_API_KEY passes it and drops the stand-in base URL", () => {
  const dir = Deno.makeTempDirSync();
  const env = hostedEnv(config({ ANTHROPIC_API_KEY: "sk-ant-real" }, dir), keys, entry, null);
  assert.equal(env.ANTHROPIC_API_KEY, "sk-ant-real");
  assert.equal(env.ANTHROPIC_BASE_URL, undefined);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("hostedEnv() on the test stack (LOCAL_FUNCTIONS_NO_OUTBOUND=1) drops the .env's outbound settings", () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(
    join(dir, ".env"),
    "ALERT_WEBHOOK_URL=https://hooks.slack.com/services/T/B/x\nANTHROPIC_API_KEY=sk-ant-real\n" +
      "ANTHROPIC_BASE_URL=https://proxy.example\nRAW_RETENTION_DAYS=30\nALERT_ENVIRONMENT=dev\n",
  );
  const logged: Record<string, unknown>[] = [];
  const dev = hostedEnv(config({}, dir), keys, entry, null);
  assert.equal(dev.ALERT_WEBHOOK_URL, "https://hooks.slack.com/services/T/B/x", "the dev stack keeps them");
  const test = hostedEnv(
    config({ LOCAL_FUNCTIONS_NO_OUTBOUND: "1" }, dir),
    keys,
    entry,
    null,
    (f) => logged.push(f),
  );
  assert.equal(test.ALERT_WEBHOOK_URL, undefined);
  assert.equal(test.ANTHROPIC_API_KEY, STANDIN_API_KEY, "the stand-in, never the real key");
  assert.match(test.ANTHROPIC_BASE_URL, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(test.RAW_RETENTION_DAYS, "30", "settings that reach nothing stay");
  assert.equal(test.ALERT_ENVIRONMENT, "dev");
  assert.deepEqual(logged.map((f) => f.key).sort(), [
    "ALERT_WEBHOOK_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
  ]);
  Deno.removeSync(dir, { recursive: true });
});
