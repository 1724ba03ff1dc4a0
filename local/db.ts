/**
 * The project's own PostgreSQL 15 cluster: `deno task db:start | db:stop | db:status | db:reset | db:migrate | db:lint`.
 *
 * Debian's PostgreSQL binaries, a cluster under the stack's state folder, port 54322 like `supabase start`,
 * pg_cron preloaded for the app database. Start is idempotent (a started cluster is left alone, a stale pid file is
 * removed); reset drops and recreates the database, then bootstrap + migrations + seed. With DATABASE_URL set no
 * cluster is managed: start/reset only bootstrap-if-absent and migrate that database.
 */
import { join } from "node:path";
import { usageOf, wantsHelp } from "./parse_cli.ts";
import {
  cliDbUrl,
  databaseUrl,
  DB_NAME,
  DB_PORT,
  isExternalDatabase,
  PG_BIN,
  REPO_ROOT,
  stateDir,
} from "./paths.ts";
import { run, runOk, supabaseCli } from "./proc.ts";

const isRoot = Deno.uid() === 0;
const SEEDED_MARK = "zero-loss: seed.sql applied";

/** Debian packages the cluster needs, and the file each one provides. */
const REQUIRED_PACKAGES: ReadonlyArray<{ pkg: string; file: string }> = [
  { pkg: "postgresql-15", file: `${PG_BIN}/initdb` },
  { pkg: "postgresql-15-cron", file: "/usr/share/postgresql/15/extension/pg_cron.control" },
  { pkg: "postgresql-15-pgtap", file: "/usr/share/postgresql/15/extension/pgtap.control" },
  { pkg: "libtap-parser-sourcehandler-pgtap-perl", file: "/usr/bin/pg_prove" },
  { pkg: "postgresql-15-plpgsql-check", file: "/usr/share/postgresql/15/extension/plpgsql_check.control" },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function ensurePackages(): Promise<void> {
  const missing = REQUIRED_PACKAGES.filter((p) => !exists(p.file)).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (!isRoot) {
    throw new Error(
      `Cannot install ${missing.join(", ")}: not running as root. Install them with ` +
        `"sudo apt-get install -y ${missing.join(" ")}" and run again`,
    );
  }
  console.error(`[db] installing Debian packages: ${missing.join(" ")}`);
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await runOk("apt-get", ["update", "-qq"], { env, quiet: true });
  await runOk("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], {
    env,
    quiet: true,
  });
  const still = REQUIRED_PACKAGES.filter((p) => !exists(p.file)).map((p) => p.pkg);
  if (still.length > 0) throw new Error(`Cannot find ${still.join(", ")} after apt-get install`);
}

/** Runs a PostgreSQL binary as the `postgres` OS user when we are root (initdb refuses root). */
function pgCommand(bin: string, args: string[]): [string, string[]] {
  const exe = join(PG_BIN, bin);
  return isRoot ? ["runuser", ["-u", "postgres", "--", exe, ...args]] : [exe, args];
}

/** The cluster folder: must be reachable by the postgres OS user through every parent folder. */
async function clusterDir(): Promise<string> {
  const preferred = join(stateDir(), "pg");
  if (!isRoot) return preferred;
  Deno.mkdirSync(stateDir(), { recursive: true });
  const probe = await run("runuser", ["-u", "postgres", "--", "test", "-x", stateDir()], { quiet: true });
  if (probe.code === 0) return preferred;
  // A checkout under a private home folder: keep the cluster in /var/tmp, keyed by the checkout path (the
  // default state folder) or by the state folder (any other, e.g. the test stack's), so two stacks of one
  // checkout never share a cluster.
  const key = stateDir() === join(REPO_ROOT, ".local-stack") ? REPO_ROOT : stateDir();
  const hash = Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))).slice(0, 6),
  ).map((b) => b.toString(16).padStart(2, "0")).join("");
  return `/var/tmp/zero-loss-pg-${hash}`;
}

async function dataDir(): Promise<string> {
  return join(await clusterDir(), "data");
}

function pidAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function isRunning(data: string): Promise<boolean> {
  if (!exists(join(data, "PG_VERSION"))) return false;
  const [cmd, args] = pgCommand("pg_ctl", ["-D", data, "status"]);
  return (await run(cmd, args, { quiet: true })).code === 0;
}

/** A pid file left by a crash (or a machine restart) blocks pg_ctl start when its pid is reused. */
function removeStalePidFile(data: string): void {
  const pidFile = join(data, "postmaster.pid");
  if (!exists(pidFile)) return;
  const pid = Number(Deno.readTextFileSync(pidFile).split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) {
    console.error(`[db] removing stale pid file (pid ${pid} is not running)`);
    Deno.removeSync(pidFile);
  }
}

async function portInUse(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

async function initCluster(dir: string, data: string): Promise<void> {
  Deno.mkdirSync(dir, { recursive: true });
  if (isRoot) await runOk("chown", ["postgres:postgres", dir]);
  const [cmd, args] = pgCommand("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--auth=trust",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]);
  await runOk(cmd, args, { quiet: true });
  const conf = [
    "",
    "# zero-loss local stack",
    "listen_addresses = '127.0.0.1'",
    `port = ${DB_PORT}`,
    `unix_socket_directories = '${dir}'`,
    "shared_preload_libraries = 'pg_cron'",
    `cron.database_name = '${DB_NAME}'`,
    "max_connections = 200",
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
    "log_min_messages = warning",
    "",
  ].join("\n");
  Deno.writeTextFileSync(join(data, "postgresql.conf"), conf, { append: true });
}

async function startCluster(): Promise<void> {
  await ensurePackages();
  const dir = await clusterDir();
  const data = join(dir, "data");
  if (await isRunning(data)) return;
  if (!exists(join(data, "PG_VERSION"))) await initCluster(dir, data);
  removeStalePidFile(data);
  if (await portInUse(DB_PORT)) {
    throw new Error(
      `Cannot start PostgreSQL on port ${DB_PORT}: the port is taken by another server. Stop it, or set ` +
        `DATABASE_URL to use that database instead`,
    );
  }
  const [cmd, args] = pgCommand("pg_ctl", [
    "-D",
    data,
    "-l",
    join(dir, "postgres.log"),
    "-w",
    "-t",
    "30",
    // The port given now wins over the one initdb wrote to postgresql.conf: a cluster created under another
    // LOCAL_DB_PORT would otherwise start on its old port while the stack waits on the new one.
    "-o",
    `-p ${DB_PORT}`,
    "start",
  ]);
  // The default ports (54322, 54332) lie in Linux's ephemeral range (32768–60999): a client socket of this
  // machine may hold one as its local port for a moment, which makes the bind fail although nothing listens.
  // Such a socket goes away by itself (at the latest when its TIME_WAIT ends, 60 s on Linux), so a refused bind
  // with no listener is tried again for up to 75 s.
  const giveUpAt = Date.now() + 75_000;
  for (let attempt = 1;; attempt++) {
    const res = await run(cmd, args, { quiet: true });
    if (res.code === 0) return;
    let log = "";
    try {
      log = Deno.readTextFileSync(join(dir, "postgres.log")).split("\n").slice(-15).join("\n");
    } catch { /* no log yet */ }
    const transientBind = log.includes("Address already in use") && !(await portInUse(DB_PORT));
    if (transientBind && Date.now() < giveUpAt) {
      console.error(`[db] port ${DB_PORT} is held by a passing client socket; trying again (${attempt})`);
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    throw new Error(`Cannot start PostgreSQL: pg_ctl exited ${res.code}\n${res.stderr}\n${log}`);
  }
}

async function stopCluster(): Promise<void> {
  const data = await dataDir();
  if (!(await isRunning(data))) return;
  const [cmd, args] = pgCommand("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
  await runOk(cmd, args, { quiet: true });
}

export async function psql(sqlOrFile: { sql?: string; file?: string }, url = databaseUrl()): Promise<string> {
  const args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-d", url];
  if (sqlOrFile.file) args.push("-f", sqlOrFile.file);
  if (sqlOrFile.sql) args.push("-c", sqlOrFile.sql);
  const res = await run("psql", args, { quiet: true });
  if (res.code !== 0) throw new Error(`psql failed: ${res.stderr.trim()}`);
  return res.stdout.trim();
}

/** Applies the platform bootstrap (absent pieces only), pending migrations, and optionally the seed. */
export async function migrate(opts: { seed: boolean }): Promise<void> {
  await psql({ file: join(REPO_ROOT, "local", "bootstrap", "platform.sql") });
  await supabaseCli(["migration", "up", "--db-url", cliDbUrl(), "--include-all"]);
  if (opts.seed) {
    await psql({ file: join(REPO_ROOT, "supabase", "seed.sql") });
    await psql({
      sql:
        `do $$ begin execute format('comment on database %I is %L', current_database(), '${SEEDED_MARK}'); end $$`,
    });
  }
}

/** Drops and recreates the app database. pg_cron's launcher holds a connection, so FORCE is needed. */
async function recreateDatabase(): Promise<void> {
  const admin = databaseUrl().replace(/\/[^/?]+(\?|$)/, "/template1$1");
  await psql({ sql: `drop database if exists ${DB_NAME} with (force)` }, admin);
  await psql({ sql: `create database ${DB_NAME}` }, admin);
}

async function waitForDb(timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const res = await run("psql", ["-X", "-At", "-d", databaseUrl(), "-c", "select 1"], { quiet: true });
    if (res.code === 0) return;
    if (Date.now() > deadline) throw new Error(`Cannot reach the database: ${res.stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts (if needed) and migrates; seeds a database that was just created. */
export async function start(): Promise<void> {
  if (!isExternalDatabase()) await startCluster();
  await waitForDb();
  // The seed runs once per database: a comment on the database records that it ran.
  const seeded = await psql({
    sql:
      "select coalesce(shobj_description(oid, 'pg_database'), '') from pg_database where datname = current_database()",
  });
  await migrate({ seed: !seeded.includes(SEEDED_MARK) });
}

export async function reset(): Promise<void> {
  if (isExternalDatabase()) {
    throw new Error(
      "Cannot reset an external DATABASE_URL: use `supabase db reset` for a supabase-managed database",
    );
  }
  await startCluster();
  await waitForDb();
  await recreateDatabase();
  await migrate({ seed: true });
  // Dropping the database ends pg_cron's launcher with exit code 0 ("pg_cron scheduler shutting down"), and the
  // postmaster does not restart a background worker that exited cleanly: without a restart no job runs again.
  const launcher = await psql({
    sql: "select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher'",
  });
  if (launcher === "0") {
    await stopCluster();
    await startCluster();
    await waitForDb();
  }
}

async function status(): Promise<number> {
  const url = databaseUrl();
  if (!isExternalDatabase()) {
    const data = await dataDir();
    const running = await isRunning(data);
    console.log(`cluster   ${data} (${running ? "running" : "stopped"})`);
    if (!running) return 1;
  }
  const res = await run("psql", ["-X", "-At", "-d", url, "-c", "select version()"], { quiet: true });
  if (res.code !== 0) {
    console.log(`DB URL    ${url} (unreachable: ${res.stderr.trim()})`);
    return 1;
  }
  const version = res.stdout.trim();
  const hasLedger = await psql({
    sql: "select to_regclass('supabase_migrations.schema_migrations') is not null",
  });
  const migrations = hasLedger === "t"
    ? await psql({ sql: "select count(*) from supabase_migrations.schema_migrations" })
    : "0";
  console.log(`DB URL    ${url}`);
  console.log(`server    ${version.split(" on ")[0]}`);
  console.log(`migrations applied: ${migrations}`);
  return 0;
}

async function lint(): Promise<void> {
  await supabaseCli([
    "db",
    "lint",
    "--db-url",
    cliDbUrl(),
    "--fail-on",
    "error",
    "--schema",
    "public,private",
  ]);
}

if (import.meta.main) {
  const cmd = Deno.args[0];
  if (wantsHelp(Deno.args)) {
    console.log(usageOf(import.meta.url));
    Deno.exit(0);
  }
  if (Deno.args.length > 1) {
    console.error(`db: unknown option '${Deno.args[1]}' (see --help)`);
    Deno.exit(2);
  }
  try {
    switch (cmd) {
      case "start":
        await start();
        console.log(`PostgreSQL ready: ${databaseUrl()}`);
        break;
      case "stop":
        if (isExternalDatabase()) console.log("DATABASE_URL is set: no cluster is managed");
        else await stopCluster();
        break;
      case "status":
        Deno.exit(await status());
        break;
      case "reset":
        await reset();
        console.log(`Database reset: ${databaseUrl()}`);
        break;
      case "migrate":
        await migrate({ seed: false });
        break;
      case "lint":
        await lint();
        break;
      default:
        console.error(
          `db: unknown command '${cmd ?? ""}': start|stop|status|reset|migrate|lint (see --help)`,
        );
        Deno.exit(2);
    }
  } catch (err) {
    console.error(`[db] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
