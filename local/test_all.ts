/**
 * `deno task test`: every check and test the project has, one summary line at the end.
 *
 * Order: fmt, lint, type check (each counts as one test) → a fresh database (db:reset; with DATABASE_URL the
 * existing database is only migrated) → `supabase db lint --fail-on error` (one test) → pgTAP files with
 * pg_prove → the local stack when it exists → all Deno tests under tests/. The last line is `N passed, N failed` over all of them; the exit status is non-zero when
 * anything failed.
 *
 * Flags: `--only deno|pgtap|checks` runs one part; anything after `--` goes to `deno test` (e.g. a filter).
 */
// First: switches this run to the test stack's state folder and ports before paths.ts reads them.
import "./test_env.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { databaseUrl, isExternalDatabase, REPO_ROOT } from "./paths.ts";
import { run } from "./proc.ts";
import { usageOf, wantsHelp } from "./parse_cli.ts";

interface Tally {
  passed: number;
  failed: number;
}

const tally: Tally = { passed: 0, failed: 0 };
const failures: string[] = [];

function stripAnsi(s: string): string {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

function record(name: string, ok: boolean): void {
  if (ok) tally.passed++;
  else {
    tally.failed++;
    failures.push(name);
  }
}

/** Runs a command with live output, also capturing it for counting. */
async function tee(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", RUST_BACKTRACE: "0", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      out += dec.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { code: status.code, out: stripAnsi(out) };
}

async function checks(): Promise<void> {
  for (
    const [name, args] of [["deno fmt --check", ["fmt", "--check"]], ["deno lint", ["lint"]], [
      "deno check",
      ["check", "."],
    ]] as const
  ) {
    console.log(`\n== ${name}`);
    const res = await tee(Deno.execPath(), [...args]);
    record(name, res.code === 0);
  }
  // The docs stand alone: no reference may leave the repository (local/doc_links.ts).
  console.log("\n== links stay in the repository");
  const links = await tee(Deno.execPath(), ["run", "-A", "local/doc_links.ts"]);
  record("links stay in the repository", links.code === 0);
}

async function prepareDatabase(): Promise<void> {
  console.log(`\n== database (${isExternalDatabase() ? "external DATABASE_URL, migrate only" : "db:reset"})`);
  const res = await tee(Deno.execPath(), [
    "run",
    "-A",
    "local/db.ts",
    isExternalDatabase() ? "start" : "reset",
  ]);
  if (res.code !== 0) throw new Error("Cannot prepare the database: see the output above");
}

async function pgtap(): Promise<void> {
  const dir = join(REPO_ROOT, "supabase", "tests", "database");
  if (!existsSync(dir)) return;
  console.log("\n== pgTAP (pg_prove supabase/tests/database)");
  const res = await tee("pg_prove", ["--verbose", "--ext", ".sql", "-r", "-d", databaseUrl(), dir]);
  let ok = 0;
  let notOk = 0;
  for (const line of res.out.split("\n")) {
    if (/^\s*ok \d+/.test(line)) ok++;
    else if (/^\s*not ok \d+/.test(line)) notOk++;
  }
  // A file that died before its plan completed reports no "not ok" line; the exit status still tells.
  if (res.code !== 0 && notOk === 0) {
    notOk = 1;
    failures.push("pg_prove (a test file died; see its output)");
  }
  tally.passed += ok;
  tally.failed += notOk;
  if (notOk > 0) failures.push(`pgTAP: ${notOk} failed`);
}

/** `supabase db lint --fail-on error` (plpgsql_check) on the migrated database, as `deno task db:lint` runs it. */
async function dbLint(): Promise<void> {
  console.log("\n== supabase db lint --fail-on error");
  const res = await tee(Deno.execPath(), ["run", "-A", "local/db.ts", "lint"]);
  record("supabase db lint --fail-on error", res.code === 0);
}

async function denoTests(extra: string[]): Promise<void> {
  console.log("\n== deno test");
  // DATABASE_URL only when the caller set it: passing the stack's own URL would make isExternalDatabase() true
  // in the tests and skip the PostgreSQL restart/crash fault tests, which need the stack's own cluster.
  const res = await tee(
    Deno.execPath(),
    ["test", "-A", "--no-check", ...extra, "tests/"],
    isExternalDatabase() ? { DATABASE_URL: databaseUrl() } : {},
  );
  const summary = res.out.split("\n").filter((l) => /^(ok|FAILED) \| /.test(l)).pop();
  if (!summary) {
    record("deno test (no summary line)", false);
    return;
  }
  const passed = Number(/(\d+) passed/.exec(summary)?.[1] ?? 0);
  const failed = Number(/(\d+) failed/.exec(summary)?.[1] ?? 0);
  tally.passed += passed;
  tally.failed += failed;
  if (failed > 0 || res.code !== 0) {
    failures.push(`deno test: ${failed} failed`);
    if (failed === 0) tally.failed++;
  }
}

async function withStack(fn: () => Promise<void>): Promise<void> {
  const stack = join(REPO_ROOT, "local", "stack.ts");
  if (!existsSync(stack)) return fn();
  console.log("\n== local stack");
  // The test run also serves the test-only functions (tests/fixtures/functions), unless told otherwise.
  const started = await run(Deno.execPath(), ["run", "-A", stack, "start", "--quiet"], {
    cwd: REPO_ROOT,
    env: {
      LOCAL_EXTRA_FUNCTIONS_DIR: Deno.env.get("LOCAL_EXTRA_FUNCTIONS_DIR") ?? "tests/fixtures/functions",
    },
  });
  if (started.code !== 0) throw new Error("Cannot start the local stack: see the output above");
  await fn();
}

async function main(): Promise<number> {
  const dashdash = Deno.args.indexOf("--");
  const own = dashdash === -1 ? Deno.args : Deno.args.slice(0, dashdash);
  const extra = dashdash === -1 ? [] : Deno.args.slice(dashdash + 1);
  if (wantsHelp(own)) {
    console.log(usageOf(import.meta.url));
    return 0;
  }
  const onlyIdx = own.indexOf("--only");
  const only = onlyIdx === -1 ? null : own[onlyIdx + 1];
  const stray = own.find((_, i) => onlyIdx === -1 || (i !== onlyIdx && i !== onlyIdx + 1));
  if (stray !== undefined || (onlyIdx !== -1 && !["deno", "pgtap", "checks"].includes(only ?? ""))) {
    console.error(
      stray !== undefined
        ? `test: unknown option '${stray}' (see --help)`
        : `test: --only takes deno, pgtap or checks (see --help)`,
    );
    return 2;
  }
  const started = Date.now();
  try {
    if (!only || only === "checks") await checks();
    if (!only || only === "pgtap" || only === "deno") await prepareDatabase();
    if (!only || only === "pgtap") await dbLint();
    if (!only || only === "pgtap") await pgtap();
    if (!only || only === "deno") await withStack(() => denoTests(extra));
  } catch (err) {
    record(err instanceof Error ? err.message : String(err), false);
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) console.log(`\nFailed: ${failures.join("; ")}`);
  console.log(`\n(${secs}s)`);
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed === 0 ? 0 : 1;
}

Deno.exit(await main());
