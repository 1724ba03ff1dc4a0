/**
 * The local stack: `deno task stack:start [--quiet] | stack:stop | stack:status`.
 *
 * start: PostgreSQL (local/db.ts `start()`: cluster, bootstrap, migrations, seed), then one detached gateway
 * process (local/gateway/main.ts) that survives this command, logs to `<stateDir>/gateway.log` and keeps its
 * pid and settings in `<stateDir>/gateway.json`; waits until it answers its health check, writes
 * `<stateDir>/stack.env.json` and prints the URLs and keys like `supabase start` (nothing with --quiet).
 * Idempotent: a healthy gateway with the same code, settings and deno binary is kept (its function workers are
 * recycled so function changes are picked up); otherwise it is replaced. A gateway whose deno binary was
 * replaced under it (`npm ci` in tools/, e.g. after deleting tools/node_modules) cannot spawn function workers
 * any more ("Failed to spawn '…/deno (deleted)'"), so that, too, replaces it. Start ends by booting every
 * project function (an OPTIONS request each) and fails, naming the function and its answer, when one does
 * not boot: "up" is never printed over a stack whose functions answer 503.
 * Start also creates the review console's two logins and builds its files into `<stateDir>/console`, which the
 * gateway serves on LOCAL_CONSOLE_PORT (docs/CONSOLE.md).
 * stop: the gateway (SIGTERM, then SIGKILL), then the cluster. status: both; exit 1 when either is down.
 */
import { existsSync, openSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { z } from "zod";
import { start as startDb } from "./db.ts";
import { gatewayConfig } from "./gateway/config.ts";
import {
  anonKey,
  LOCAL_JWT_SECRET,
  LOCAL_PUBLISHABLE_KEY,
  LOCAL_SECRET_KEY,
  serviceRoleKey,
} from "./keys.ts";
import { API_PORT, CLAUDE_PORT, CONSOLE_PORT, databaseUrl, REPO_ROOT, stateDir } from "./paths.ts";
import { buildConsole } from "./console_build.ts";
import { ensureConsoleUsers } from "./console_users.ts";
import { usageOf, wantsHelp } from "./parse_cli.ts";
import { run } from "./proc.ts";
import { type StackEnv, writeStackEnv } from "./stack_env.ts";
import { syncSecrets } from "./sync_secrets.ts";

const GATEWAY_MAIN = join(REPO_ROOT, "local", "gateway", "main.ts");
// Generous: on a loaded CI machine the first start loads every npm module cold.
const HEALTH_TIMEOUT_MS = 60_000;

const gatewayStateSchema = z.object({
  pid: z.number().int().positive(),
  started_at: z.string(),
  settings: z.record(z.string(), z.unknown()),
});
type GatewayState = z.infer<typeof gatewayStateSchema>;

function statePath(name: string): string {
  return join(stateDir(), name);
}

/** A hash of the gateway's own code: a start after it changed replaces the running gateway. */
function codeHash(): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) files.push(p);
    }
  };
  walk(join(REPO_ROOT, "local", "gateway"));
  walk(join(REPO_ROOT, "local", "claude_standin"));
  files.push(join(REPO_ROOT, "local", "keys.ts"), join(REPO_ROOT, "local", "paths.ts"));
  let h = 0x811c9dc5;
  for (const f of files.sort()) {
    const text = relative(REPO_ROOT, f) + "\0" + readFileSync(f, "utf8");
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16);
}

/** The deno binary the gateway runs and spawns its function workers with; `npm ci` in tools/ replaces it. */
function denoBinary(): string {
  try {
    const st = Deno.statSync(Deno.execPath());
    return `${Deno.version.deno} ${Deno.execPath()} ino ${st.ino} mtime ${st.mtime?.getTime() ?? 0}`;
  } catch {
    return `${Deno.version.deno} ${Deno.execPath()}`;
  }
}

/** True when the process's executable was deleted or replaced since it started (Linux: `/proc/<pid>/exe`). */
function runsDeletedBinary(pid: number): boolean {
  try {
    return Deno.readLinkSync(`/proc/${pid}/exe`).endsWith(" (deleted)");
  } catch {
    return false;
  }
}

function desiredSettings(): Record<string, unknown> {
  const c = gatewayConfig();
  return {
    code_hash: codeHash(),
    deno_binary: denoBinary(),
    api_port: c.apiPort,
    claude_port: c.claudePort,
    console_port: c.consolePort,
    db_url: c.dbUrl,
    extra_functions_dir: c.extraFunctionsDir,
    wall_clock_ms: c.functionWallClockMs,
    real_anthropic_key: c.realAnthropicKey !== null,
    standin_behavior: c.standinBehavior,
    functions_dotenv: c.functionsDotenv,
    no_outbound: c.noOutbound,
  };
}

function readGatewayState(): GatewayState | null {
  try {
    return gatewayStateSchema.parse(JSON.parse(readFileSync(statePath("gateway.json"), "utf8")));
  } catch {
    return null;
  }
}

/** True when the pid is alive and is our gateway (not a reused pid). */
function isOurGateway(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("local/gateway/main.ts");
  } catch {
    return false;
  }
}

async function health(): Promise<Record<string, unknown> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${API_PORT}/_internal/health`, {
      signal: AbortSignal.timeout(1000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const body = await res.json();
    return body && typeof body === "object" ? body as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

function portFree(port: number): boolean {
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    l.close();
    return true;
  } catch {
    return false;
  }
}

async function stopGateway(): Promise<boolean> {
  const state = readGatewayState();
  if (!state || !isOurGateway(state.pid)) return false;
  try {
    Deno.kill(state.pid, "SIGTERM");
  } catch {
    return false;
  }
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && isOurGateway(state.pid)) await new Promise((r) => setTimeout(r, 50));
  if (isOurGateway(state.pid)) {
    try {
      Deno.kill(state.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  return true;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

async function spawnGateway(settings: Record<string, unknown>): Promise<number> {
  for (const port of [API_PORT, CLAUDE_PORT]) {
    if (!portFree(port)) {
      throw new Error(
        `Cannot start the gateway: port ${port} is taken by another process. Stop it, or set LOCAL_API_PORT / ` +
          `LOCAL_CLAUDE_PORT to run this stack on other ports`,
      );
    }
  }
  Deno.mkdirSync(stateDir(), { recursive: true });
  const logFile = statePath("gateway.log");
  // Rotate a large log so it never grows without bound across restarts.
  if (existsSync(logFile) && statSync(logFile).size > 20 * 1024 * 1024) {
    Deno.renameSync(logFile, logFile + ".1");
  }
  openSync(logFile, "a");
  // sh redirects the gateway's output into the log and execs it, so the recorded pid is the gateway's.
  const child = new Deno.Command("/bin/sh", {
    // --unstable-no-legacy-abort: request.signal fires only when a client goes away (the functions host uses it
    // to cancel the upstream request), not after every successful response.
    args: [
      "-c",
      'exec "$0" run -A --unstable-no-legacy-abort "$1" >>"$2" 2>&1',
      Deno.execPath(),
      GATEWAY_MAIN,
      logFile,
    ],
    cwd: REPO_ROOT,
    env: { LOCAL_GATEWAY_CODE_HASH: String(settings.code_hash) },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  // Watch the child's exit rather than /proc/<pid>/cmdline: until sh has exec'd deno (a while on a loaded
  // machine) the cmdline is still sh's or the forking parent's, and reading it as "gone" failed a healthy start.
  let exit: Deno.CommandStatus | null = null;
  child.status.then((s) => exit = s, () => {});
  child.unref();
  const state: GatewayState = { pid: child.pid, started_at: new Date().toISOString(), settings };
  Deno.writeTextFileSync(statePath("gateway.json"), JSON.stringify(state, null, 2) + "\n");
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const h = await health();
    if (h && h.pid === child.pid) return child.pid;
    if (exit !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const why = exit === null
    ? `it did not become healthy within ${HEALTH_TIMEOUT_MS / 1000} s`
    : `it exited with code ${(exit as Deno.CommandStatus).code}`;
  throw new Error(`Cannot start the gateway: ${why}. Last lines of ${logFile}:\n${tail(logFile, 25)}`);
}

/**
 * Boots every project function with an OPTIONS request (it skips verify_jwt and every handler answers it) and
 * throws, naming each function that does not answer 2xx, so a stack whose workers cannot start is never
 * reported as up. Test-only functions are not checked (one of them fails to boot on purpose).
 */
async function checkFunctionsBoot(): Promise<void> {
  const h = await health();
  const fns = Array.isArray(h?.functions) ? h.functions as Array<{ name?: unknown; source?: unknown }> : [];
  const names = fns.filter((f) => f.source === "project" && typeof f.name === "string").map((f) =>
    String(f.name)
  );
  const failures: string[] = [];
  await Promise.all(names.map(async (name) => {
    try {
      const res = await fetch(`http://127.0.0.1:${API_PORT}/functions/v1/${name}`, {
        method: "OPTIONS",
        signal: AbortSignal.timeout(60_000),
      });
      const body = (await res.text()).slice(0, 200);
      if (res.status >= 300) failures.push(`${name} answered ${res.status} ${body}`);
    } catch (err) {
      failures.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }));
  if (failures.length > 0) {
    throw new Error(
      `Cannot start the local stack: ${failures.length} function(s) do not boot: ${
        failures.sort().join("; ")
      }. ` +
        `Last lines of ${statePath("gateway.log")}:\n${tail(statePath("gateway.log"), 15)}`,
    );
  }
}

/** The settings of the stack these ports and keys make: what start writes to `stack.env.json`. */
export async function stackEnv(): Promise<StackEnv> {
  return {
    SUPABASE_URL: `http://127.0.0.1:${API_PORT}`,
    SUPABASE_ANON_KEY: await anonKey(),
    SUPABASE_SERVICE_ROLE_KEY: await serviceRoleKey(),
    SUPABASE_PUBLISHABLE_KEY: LOCAL_PUBLISHABLE_KEY,
    SUPABASE_SECRET_KEY: LOCAL_SECRET_KEY,
    SUPABASE_DB_URL: databaseUrl(),
    SUPABASE_JWT_SECRET: LOCAL_JWT_SECRET,
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${CLAUDE_PORT}`,
    CONSOLE_URL: `http://127.0.0.1:${CONSOLE_PORT}`,
  };
}

async function start(quiet: boolean): Promise<void> {
  const t0 = performance.now();
  await startDb();
  const settings = desiredSettings();
  const state = readGatewayState();
  const h = await health();
  const staleBinary = state !== null && isOurGateway(state.pid) && runsDeletedBinary(state.pid);
  const same = state !== null && h !== null && h.pid === state.pid && isOurGateway(state.pid) &&
    !staleBinary && JSON.stringify(state.settings) === JSON.stringify(settings);
  let action = "kept";
  if (same) {
    // Pick up function code changes even if a file watch event was missed.
    await fetch(`http://127.0.0.1:${API_PORT}/_internal/reload`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    )
      .catch(() => {});
  } else {
    action = (await stopGateway()) ? "restarted" : "started";
    if (staleBinary) action += " (its deno binary had been replaced)";
    await spawnGateway(settings);
  }
  await checkFunctionsBoot();
  const env = await stackEnv();
  writeStackEnv(env);
  // The storage trigger and the cron jobs call functions with the URL and key from Vault (docs/PIPELINE.md);
  // on the local stack they are known, so set them as `deno task secrets:sync` would.
  await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
  // The review console: its logins, and its files where the gateway serves them (LOCAL_CONSOLE_PORT).
  await ensureConsoleUsers(env.SUPABASE_DB_URL);
  try {
    await buildConsole(join(stateDir(), "console"), {
      supabaseUrl: env.SUPABASE_URL,
      anonKey: env.SUPABASE_ANON_KEY,
      functionName: "review-queue",
    });
  } catch (err) {
    // The stack works without its console (the page then says how to build it); say why it is missing.
    console.error(`[stack] the review console was not built: ${err instanceof Error ? err.message : err}`);
  }
  if (quiet) return;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`Local stack ${action} in ${secs}s (state: ${stateDir()}).\n`);
  console.log(`         API URL: ${env.SUPABASE_URL}`);
  console.log(`   Functions URL: ${env.SUPABASE_URL}/functions/v1`);
  console.log(`     Storage URL: ${env.SUPABASE_URL}/storage/v1`);
  console.log(`        Auth URL: ${env.SUPABASE_URL}/auth/v1`);
  console.log(`  Review console: ${env.CONSOLE_URL}`);
  console.log(`          DB URL: ${env.SUPABASE_DB_URL}`);
  console.log(`      JWT secret: ${env.SUPABASE_JWT_SECRET}`);
  console.log(`        anon key: ${env.SUPABASE_ANON_KEY}`);
  console.log(`service_role key: ${env.SUPABASE_SERVICE_ROLE_KEY}`);
  console.log(` Publishable key: ${env.SUPABASE_PUBLISHABLE_KEY}`);
  console.log(`      Secret key: ${env.SUPABASE_SECRET_KEY}`);
  console.log(
    `Claude stand-in URL: ${env.ANTHROPIC_BASE_URL}${
      settings.real_anthropic_key ? " (functions use the real API: ANTHROPIC_API_KEY is set)" : ""
    }`,
  );
  if (settings.extra_functions_dir) console.log(`  Test functions: ${settings.extra_functions_dir}`);
  console.log(`     Gateway log: ${statePath("gateway.log")}`);
}

async function status(): Promise<number> {
  const db = await run(Deno.execPath(), ["run", "-A", join(REPO_ROOT, "local", "db.ts"), "status"], {
    quiet: true,
  });
  console.log(db.stdout.trimEnd());
  const state = readGatewayState();
  const h = await health();
  const up = state !== null && h !== null && h.pid === state.pid;
  if (up) {
    const fns = Array.isArray(h.functions) ? h.functions.length : 0;
    console.log(`gateway   pid ${state.pid}, up since ${state.started_at} (${fns} functions)`);
    console.log(`API URL   http://127.0.0.1:${API_PORT}   Claude stand-in http://127.0.0.1:${CLAUDE_PORT}`);
  } else {
    console.log(
      `gateway   stopped${state && isOurGateway(state.pid) ? ` (pid ${state.pid} alive but unhealthy)` : ""}`,
    );
  }
  return db.code === 0 && up ? 0 : 1;
}

async function stop(): Promise<void> {
  const stopped = await stopGateway();
  const db = await run(Deno.execPath(), ["run", "-A", join(REPO_ROOT, "local", "db.ts"), "stop"], {
    quiet: true,
  });
  if (db.code !== 0) throw new Error(`Cannot stop PostgreSQL: ${db.stderr.trim()}`);
  console.log(`Local stack stopped${stopped ? "" : " (the gateway was not running)"}.`);
}

if (import.meta.main) {
  const [cmd, ...rest] = Deno.args;
  if (wantsHelp(Deno.args)) {
    console.log(usageOf(import.meta.url));
    Deno.exit(0);
  }
  const unknown = rest.find((a) => a !== "--quiet" || cmd !== "start");
  if (unknown !== undefined) {
    console.error(`stack: unknown option '${unknown}' (see --help)`);
    Deno.exit(2);
  }
  try {
    switch (cmd) {
      case "start":
        await start(rest.includes("--quiet"));
        break;
      case "stop":
        await stop();
        break;
      case "status":
        Deno.exit(await status());
        break;
      default:
        console.error(`stack: unknown command '${cmd ?? ""}': start [--quiet] | stop | status (see --help)`);
        Deno.exit(2);
    }
  } catch (err) {
    console.error(`[stack] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
