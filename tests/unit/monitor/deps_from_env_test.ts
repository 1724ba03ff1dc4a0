import assert from "node:assert/strict";
import { monitorDepsFromEnv } from "../../../shared/monitor/deps_from_env.ts";

const PLATFORM = {
  SUPABASE_URL: "http://127.0.0.1:1",
  SUPABASE_DB_URL: "postgres://postgres@127.0.0.1:1/postgres",
  SUPABASE_SERVICE_ROLE_KEY: "service-key",
};
const env = (vars: Record<string, string>) => ({ get: (k: string) => ({ ...PLATFORM, ...vars })[k] });

Deno.test("monitorDepsFromEnv() records alerts without sending them when ALERT_WEBHOOK_URL is unset", () => {
  const deps = monitorDepsFromEnv(env({}));
  assert.equal(deps.sink.configured, false);
  assert.deepEqual(deps.serviceKeys, ["service-key"]);
  assert.equal(deps.environment, undefined);
});

Deno.test("monitorDepsFromEnv() wires the webhook and the environment label when they are set", () => {
  const deps = monitorDepsFromEnv(
    env({ ALERT_WEBHOOK_URL: "https://hooks.example.test/x", ALERT_ENVIRONMENT: "prod" }),
  );
  assert.equal(deps.sink.configured, true);
  assert.equal(deps.environment, "prod");
});

Deno.test("monitorDepsFromEnv() fails at boot on a bad setting, naming it", () => {
  assert.throws(() => monitorDepsFromEnv(env({ ALERT_WEBHOOK_URL: "ftp://x" })), /ALERT_WEBHOOK_URL/);
  assert.throws(() => monitorDepsFromEnv({ get: () => undefined }), /SUPABASE_URL/);
});
