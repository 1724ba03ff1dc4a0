/**
 * The gateway's settings, read once at boot from the environment local/stack.ts starts it with. Everything
 * has the `supabase start` default; the LOCAL_* variables exist so two stacks can share a machine and so the
 * test run can add test-only functions and a short wall-clock limit.
 */
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { API_PORT, CLAUDE_PORT, CONSOLE_PORT, databaseUrl, REPO_ROOT, stateDir } from "../paths.ts";

export interface GatewayConfig {
  apiPort: number;
  claudePort: number;
  /** The review console's port, and the folder of its built files (local/stack.ts builds them there). */
  consolePort: number;
  consoleDir: string;
  /** Seconds an Auth access token lives (`[auth] jwt_expiry`). */
  jwtExpiry: number;
  /** What clients use: SUPABASE_URL for functions, the base of signed URLs. */
  apiUrl: string;
  standinUrl: string;
  dbUrl: string;
  stateDir: string;
  storageDir: string;
  functionsDir: string;
  /** The functions' secrets file: LOCAL_FUNCTIONS_DOTENV, default supabase/functions/.env. */
  functionsDotenv: string;
  /** LOCAL_FUNCTIONS_NO_OUTBOUND=1 (the test run): outbound settings of that file are not passed on. */
  noOutbound: boolean;
  /** supabase/config.toml: verify_jwt per function, the global storage file size limit. */
  configToml: string;
  /** Test-only functions (LOCAL_EXTRA_FUNCTIONS_DIR), served after supabase/functions; null when unset. */
  extraFunctionsDir: string | null;
  /** Per-request wall clock before 546 WORKER_LIMIT (hosted: 150 s on Free). */
  functionWallClockMs: number;
  /** A real Anthropic key from the starting environment: functions get it and no stand-in base URL. */
  realAnthropicKey: string | null;
  /** Default stand-in behaviour (CLAUDE_STANDIN_BEHAVIOR at start). */
  standinBehavior: string | null;
  /** Folders whose changes restart function workers (hot reload). */
  watchDirs: string[];
}

const numberish = (fallback: number) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v.trim() === "") return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) {
      ctx.addIssue({ code: "custom", message: "must be a positive whole number" });
      return z.NEVER;
    }
    return n;
  });

const envSchema = z.object({
  LOCAL_EXTRA_FUNCTIONS_DIR: z.string().optional(),
  LOCAL_FUNCTIONS_WALL_CLOCK_MS: numberish(150_000),
  ANTHROPIC_API_KEY: z.string().optional(),
  CLAUDE_STANDIN_BEHAVIOR: z.string().optional(),
  LOCAL_FUNCTIONS_DOTENV: z.string().optional(),
  LOCAL_FUNCTIONS_NO_OUTBOUND: z.string().optional(),
});

export type EnvGet = (name: string) => string | undefined;

export function resolveRepoPath(p: string): string {
  return isAbsolute(p) ? p : join(REPO_ROOT, p);
}

export function gatewayConfig(get: EnvGet = (n) => Deno.env.get(n)): GatewayConfig {
  const parsed = envSchema.safeParse({
    LOCAL_EXTRA_FUNCTIONS_DIR: get("LOCAL_EXTRA_FUNCTIONS_DIR"),
    LOCAL_FUNCTIONS_WALL_CLOCK_MS: get("LOCAL_FUNCTIONS_WALL_CLOCK_MS"),
    ANTHROPIC_API_KEY: get("ANTHROPIC_API_KEY"),
    CLAUDE_STANDIN_BEHAVIOR: get("CLAUDE_STANDIN_BEHAVIOR"),
    LOCAL_FUNCTIONS_DOTENV: get("LOCAL_FUNCTIONS_DOTENV"),
    LOCAL_FUNCTIONS_NO_OUTBOUND: get("LOCAL_FUNCTIONS_NO_OUTBOUND"),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Cannot start the gateway: invalid environment (${problems})`);
  }
  const e = parsed.data;
  const extra = e.LOCAL_EXTRA_FUNCTIONS_DIR?.trim()
    ? resolveRepoPath(e.LOCAL_EXTRA_FUNCTIONS_DIR.trim())
    : null;
  const functionsDir = join(REPO_ROOT, "supabase", "functions");
  return {
    apiPort: API_PORT,
    claudePort: CLAUDE_PORT,
    consolePort: CONSOLE_PORT,
    consoleDir: join(stateDir(), "console"),
    jwtExpiry: 3600,
    apiUrl: `http://127.0.0.1:${API_PORT}`,
    standinUrl: `http://127.0.0.1:${CLAUDE_PORT}`,
    dbUrl: databaseUrl(),
    stateDir: stateDir(),
    storageDir: join(stateDir(), "storage"),
    functionsDir,
    functionsDotenv: e.LOCAL_FUNCTIONS_DOTENV?.trim()
      ? resolveRepoPath(e.LOCAL_FUNCTIONS_DOTENV.trim())
      : join(functionsDir, ".env"),
    noOutbound: e.LOCAL_FUNCTIONS_NO_OUTBOUND?.trim() === "1",
    configToml: join(REPO_ROOT, "supabase", "config.toml"),
    extraFunctionsDir: extra,
    functionWallClockMs: e.LOCAL_FUNCTIONS_WALL_CLOCK_MS,
    realAnthropicKey: e.ANTHROPIC_API_KEY?.trim() ? e.ANTHROPIC_API_KEY.trim() : null,
    standinBehavior: e.CLAUDE_STANDIN_BEHAVIOR?.trim() ? e.CLAUDE_STANDIN_BEHAVIOR.trim() : null,
    watchDirs: [functionsDir, join(REPO_ROOT, "shared"), ...(extra ? [extra] : [])],
  };
}
