/**
 * The environment a function worker gets: what hosted Supabase injects, the project's secrets file, and the
 * Claude wiring — and nothing inherited from the shell (the CLI's emulator also strips HOME, PATH, …).
 *
 * Order (later wins): Claude stand-in defaults → supabase/functions/.env → a real ANTHROPIC_API_KEY from the
 * environment that started the stack (then no stand-in base URL) → the platform's SUPABASE_* variables, which
 * a secret cannot override (hosted Supabase refuses secrets named SUPABASE_*).
 */
import { existsSync } from "node:fs";
import type { GatewayConfig } from "../config.ts";
import type { FunctionEntry } from "./registry.ts";

/** A dummy key for the stand-in; the SDK needs one, the stand-in accepts any. */
export const STANDIN_API_KEY = "sk-ant-local-standin-key";

/**
 * Settings that make a function reach outside the stack (webhooks, API keys, base URLs). The test stack
 * (LOCAL_FUNCTIONS_NO_OUTBOUND=1, set by local/test_env.ts) does not pass them on from the secrets file, so
 * `./bin/test` never pages a real webhook or bills a real API key.
 */
export const OUTBOUND_SETTING = /(^|_)(URL|URI|WEBHOOK|API_KEY|TOKEN|HOST|ENDPOINT|DSN)(_|$)/;

/** Parses a dotenv file: KEY=VALUE, optional `export`, quotes, `#` comments. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quoted = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(value);
    if (quoted) {
      value = quoted[1] !== undefined
        ? quoted[1].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\")
        : quoted[2];
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    out[m[1]] = value;
  }
  return out;
}

export interface PlatformKeys {
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
}

export function hostedEnv(
  config: GatewayConfig,
  keys: PlatformKeys,
  entry: FunctionEntry,
  denoDir: string | null,
  log: (fields: Record<string, unknown>) => void = () => {},
): Record<string, string> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: config.standinUrl,
    ANTHROPIC_API_KEY: STANDIN_API_KEY,
  };
  if (config.standinBehavior) env.CLAUDE_STANDIN_BEHAVIOR = config.standinBehavior;

  const dotenvPath = config.functionsDotenv;
  if (existsSync(dotenvPath)) {
    for (const [k, v] of Object.entries(parseDotenv(Deno.readTextFileSync(dotenvPath)))) {
      if (k.startsWith("SUPABASE_")) {
        log({ event: "function_env_ignored", key: k, reason: "names starting with SUPABASE_ are reserved" });
        continue;
      }
      if (config.noOutbound && OUTBOUND_SETTING.test(k)) {
        log({
          event: "function_env_ignored",
          key: k,
          reason: "outbound setting; the test stack reaches nothing",
        });
        continue;
      }
      env[k] = v;
    }
  }
  if (config.realAnthropicKey) {
    env.ANTHROPIC_API_KEY = config.realAnthropicKey;
    if (env.ANTHROPIC_BASE_URL === config.standinUrl) delete env.ANTHROPIC_BASE_URL;
  }

  Object.assign(env, {
    SUPABASE_URL: config.apiUrl,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_DB_URL: config.dbUrl,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.publishableKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.secretKey }),
    SB_REGION: "local",
    DENO_DEPLOYMENT_ID: `local_${entry.name}_0`,
  });
  // Infrastructure only: where Deno keeps its module cache (the worker has no HOME).
  if (denoDir) env.DENO_DIR = denoDir;
  env.DENO_NO_UPDATE_CHECK = "1";
  env.NO_COLOR = "1";
  return env;
}

/** Deno's cache folder, so workers started without HOME find the modules the gateway already resolved. */
export async function resolveDenoDir(): Promise<string | null> {
  const fromEnv = Deno.env.get("DENO_DIR");
  if (fromEnv) return fromEnv;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir?: unknown };
    return typeof info.denoDir === "string" ? info.denoDir : null;
  } catch {
    return null;
  }
}
