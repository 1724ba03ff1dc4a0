/**
 * The local gateway: one process, started detached by local/stack.ts, playing the parts of `supabase start`
 * that this project uses (docs/LOCAL_STACK.md):
 *   :LOCAL_API_PORT (54321)    /functions/v1/*  Edge Functions host  (functions/host.ts)
 *                              /storage/v1/*    Storage API          (storage/api.ts)
 *                              /auth/v1/*       Auth subset          (auth/api.ts)
 *                              /_internal/health, POST /_internal/reload (restart function workers)
 *                              GET|POST /_internal/faults (fault injection for tests: faults.ts)
 *   :LOCAL_CLAUDE_PORT (54330) the Claude stand-in                   (../claude_standin/server.ts)
 *   :LOCAL_CONSOLE_PORT (54323) the review console's static files    (console_files.ts)
 *   background                 the pg_net worker                     (pg_net_worker.ts)
 * Logs are JSON lines on stdout (local/stack.ts appends them to <stateDir>/gateway.log).
 */
import postgres from "postgres";
import { createStandin } from "../claude_standin/server.ts";
import {
  anonKey,
  LOCAL_JWT_SECRET,
  LOCAL_PUBLISHABLE_KEY,
  LOCAL_SECRET_KEY,
  serviceRoleKey,
} from "../keys.ts";
import { gatewayConfig } from "./config.ts";
import { createFunctionsHost } from "./functions/host.ts";
import { hostedEnv, resolveDenoDir } from "./functions/hosted_env.ts";
import { createRegistry } from "./functions/registry.ts";
import { WorkerPool } from "./functions/worker_pool.ts";
import { Faults, handleFaultsRequest } from "./faults.ts";
import { healingSql } from "../../shared/adapters/postgres_healing_sql.ts";
import { type PgNetWorker, startPgNetWorker } from "./pg_net_worker.ts";
import { createStorageApi } from "./storage/api.ts";
import { globalFileSizeLimit } from "./storage/limits.ts";
import { DiskStore } from "./storage/disk.ts";
import { translateApiKey } from "./api_keys.ts";
import { createAuthApi } from "./auth/api.ts";
import { serveConsoleFiles } from "./console_files.ts";

function log(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ ts: new Date().toISOString(), ...fields }));
}

const config = gatewayConfig();
const keys = {
  anonKey: await anonKey(LOCAL_JWT_SECRET),
  serviceRoleKey: await serviceRoleKey(LOCAL_JWT_SECRET),
  publishableKey: LOCAL_PUBLISHABLE_KEY,
  secretKey: LOCAL_SECRET_KEY,
};
const codeHash = Deno.env.get("LOCAL_GATEWAY_CODE_HASH") ?? "unknown";
const denoDir = await resolveDenoDir();

// One pool for the Storage API and the pg_net worker, replaced if postgres.js breaks on a restart (healing_sql.ts).
const db = healingSql(() =>
  postgres(config.dbUrl, {
    prepare: false,
    max: 10,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "zl-local-gateway" },
  }), log);
const sql = db.sql;

const registry = createRegistry(config);
const pool = new WorkerPool((entry) => hostedEnv(config, keys, entry, denoDir, log), config.apiUrl, log);
const functionsHost = createFunctionsHost({ config, registry, pool, jwtSecret: LOCAL_JWT_SECRET, log });
const storage = createStorageApi({
  sql,
  disk: new DiskStore(config.storageDir),
  jwtSecret: LOCAL_JWT_SECRET,
  serviceRoleKey: keys.serviceRoleKey,
  fileSizeLimit: () => globalFileSizeLimit(config.configToml),
  log,
});
const auth = createAuthApi({
  sql,
  jwtSecret: LOCAL_JWT_SECRET,
  apiUrl: config.apiUrl,
  jwtExpiry: config.jwtExpiry,
});
// The pg_net worker starts after the servers; until then a resumed pg_net has nothing to wake.
let pgNetWorker: PgNetWorker | null = null;
const faults = new Faults(log, {
  killFunction: (name, reason) => pool.killFunction(name, reason),
  wakePgNet: () => pgNetWorker?.wake(),
});
const standin = createStandin({
  defaultBehavior: config.standinBehavior ?? undefined,
  log: (l) => console.log(l),
});

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-headers":
    "authorization, x-client-info, apikey, content-type, x-upsert, cache-control, x-supabase-api-version",
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS, HEAD",
};

function notProvided(path: string): Response {
  return Response.json({
    message: `The local stack does not provide ${
      path.split("/").slice(0, 3).join("/")
    }: see docs/LOCAL_STACK.md`,
  }, { status: 404 });
}

async function api(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = url.pathname;
  if (path === "/_internal/health" || path === "/health") {
    return Response.json({
      message: "ok",
      pid: Deno.pid,
      code_hash: codeHash,
      extra_functions_dir: config.extraFunctionsDir,
      wall_clock_ms: config.functionWallClockMs,
      postgres_pool_replacements: db.replacements(),
      functions: registry.list().map((f) => ({ name: f.name, verify_jwt: f.verifyJwt, source: f.source })),
      workers: pool.list(),
    });
  }
  if (path === "/_internal/reload" && req.method === "POST") {
    return Response.json({ retired: pool.retireAll("reload requested") });
  }
  if (path === "/_internal/faults") return await handleFaultsRequest(faults, req);
  const translated = translateApiKey(req, keys);
  if (path.startsWith("/functions/v1/")) {
    return await functionsHost(translated, path.slice("/functions/v1/".length));
  }
  if (path.startsWith("/storage/v1/")) {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    const res = await faults.storageGate(req.signal) ??
      await storage(translated, path.slice("/storage/v1/".length));
    for (const [k, v] of Object.entries(CORS)) res.headers.set(k, v);
    return res;
  }
  if (path.startsWith("/auth/v1/")) {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    const res = await auth(translated, path.slice("/auth/v1/".length));
    for (const [k, v] of Object.entries(CORS)) res.headers.set(k, v);
    return res;
  }
  return notProvided(path);
}

const apiServer = Deno.serve({
  hostname: "127.0.0.1",
  port: config.apiPort,
  onListen: () => log({ event: "gateway_listening", port: config.apiPort, pid: Deno.pid }),
  onError: (err) => {
    log({ event: "gateway_error", error: err instanceof Error ? err.stack : String(err) });
    return Response.json({ message: "gateway error" }, { status: 502 });
  },
}, api);

const standinServer = Deno.serve({
  hostname: "127.0.0.1",
  port: config.claudePort,
  onListen: () => log({ event: "standin_listening", port: config.claudePort }),
}, standin.handler);

// The console is a convenience: a taken port is logged, and the API and the stand-in keep serving.
let consoleServer: Deno.HttpServer | null = null;
try {
  consoleServer = Deno.serve({
    hostname: "127.0.0.1",
    port: config.consolePort,
    onListen: () => log({ event: "console_listening", port: config.consolePort }),
  }, serveConsoleFiles(config.consoleDir));
} catch (err) {
  log({ event: "console_not_served", port: config.consolePort, error: String(err) });
}

const pgNet = await startPgNetWorker(sql, {
  log,
  mode: () => faults.pgNet,
  onDropped: (n) => {
    faults.counters.pg_net_dropped += n;
  },
});
pgNetWorker = pgNet;

// Hot reload: any change under supabase/functions, shared/ or the extra functions folder replaces the workers.
let reloadTimer: ReturnType<typeof setTimeout> | undefined;
async function watch(): Promise<void> {
  const dirs = config.watchDirs.filter((d) => {
    try {
      return Deno.statSync(d).isDirectory;
    } catch {
      return false;
    }
  });
  if (dirs.length === 0) return;
  try {
    for await (const ev of Deno.watchFs(dirs, { recursive: true })) {
      if (ev.kind === "access") continue;
      clearTimeout(reloadTimer);
      reloadTimer = setTimeout(() => pool.retireAll(`files changed: ${ev.paths[0] ?? ""}`), 150);
    }
  } catch (err) {
    log({ event: "watch_failed", error: String(err) });
  }
}
void watch();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log({ event: "gateway_stopping", signal });
  await pgNet.stop();
  await pool.shutdown();
  await Promise.allSettled([apiServer.shutdown(), standinServer.shutdown(), consoleServer?.shutdown()]);
  await db.end({ timeout: 2 }).catch(() => {});
  log({ event: "gateway_stopped" });
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", () => void shutdown("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void shutdown("SIGINT"));
