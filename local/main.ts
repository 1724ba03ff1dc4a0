/**
 * The main job, the README's run command: `./bin/start [--count N] [--behavior NAME] [--concurrency N]
 * [--batch N] [--user-id UUID] [--timeout S] [--no-demo]` (= `deno task start`).
 *
 *   1. starts the local stack (local/stack.ts start: PostgreSQL migrated and seeded, the gateway, Vault secrets)
 *   2. generates a demo batch through generate-conversation over HTTP (local/demo/run_demo.ts), with the Claude
 *      stand-in's `mixed` behaviour, or the real API when ANTHROPIC_API_KEY is set
 *   3. prints the results table, the health summary (storage-health-monitor's dry run), the stack's URLs, a user
 *      token, and the review console's URL with a reviewer login and a plain user's, and leaves the stack
 *      running (`deno task stack:stop` stops it)
 *
 * Exit: 0 when the demo ran, whatever the conversations' outcomes (a parse_failed conversation is the review
 * queue doing its job); 1 when the stack did not start, a request got no conversation, or the wait timed out;
 * 2 for a bad command line. Options and decisions: README.md, "The two commands".
 */
import { join } from "node:path";
import postgres from "postgres";
import { fetchHealthSummary, readHealthSummary } from "./health_summary.ts";
import { formatSummary } from "../shared/monitor/format_summary.ts";
import type { MonitorSummary } from "../shared/monitor/run_monitor.ts";
import { DEMO_USAGE, type DemoOptions, parseDemoOptions } from "./demo/options.ts";
import { planDemo } from "./demo/plan.ts";
import { Progress } from "./demo/progress.ts";
import {
  formatNextSteps,
  formatOutcomeLine,
  formatResultsTable,
  formatStackUrls,
  hasNoConversation,
} from "./demo/report.ts";
import { startTokenLines } from "./user_token.ts";
import { consoleLoginLines } from "./console_users.ts";
import { ensureDemoUser, loadScaffolding, runDemo, setStandinBehavior } from "./demo/run_demo.ts";
import { runBatchDemo } from "./demo/run_batch_demo.ts";
import { CONSOLE_PORT, REPO_ROOT, stateDir } from "./paths.ts";
import { readStackEnv, type StackEnv } from "./stack_env.ts";

const encoder = new TextEncoder();
const write = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
const isTty = Deno.stdout.isTerminal();
const color = isTty && Deno.env.get("NO_COLOR") === undefined;

async function startStack(): Promise<StackEnv> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(REPO_ROOT, "local", "stack.ts"), "start", "--quiet"],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  if (!status.success) throw new Error("Cannot start the local stack: see the lines above");
  return readStackEnv();
}

async function healthSummary(env: StackEnv): Promise<MonitorSummary> {
  try {
    // Through the deployed function (dry run: nothing recorded, nothing sent), like `deno task health --via-function`.
    return await fetchHealthSummary(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY);
  } catch {
    // The same summary computed with SQL, so a broken function does not hide the numbers.
    return await readHealthSummary(env.SUPABASE_DB_URL);
  }
}

async function demo(env: StackEnv, options: DemoOptions, realClaude: boolean): Promise<number> {
  const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 2, onnotice: () => {} });
  try {
    const userId = await ensureDemoUser(sql, options.userId);
    const count = options.batch ?? options.count;
    const plan = planDemo(await loadScaffolding(sql), count, crypto.randomUUID().slice(0, 8));
    if (!plan.ok) throw new Error(plan.message);

    let restore: () => Promise<void> = async () => {};
    if (realClaude) {
      write(
        `Generating ${count} conversations with the real Anthropic API (ANTHROPIC_API_KEY is set; billed)`,
      );
      if (options.behaviorGiven) {
        write(`; --behavior ${options.behavior} applies to the stand-in only and is ignored`);
      }
      write(".\n");
    } else {
      restore = await setStandinBehavior(env.ANTHROPIC_BASE_URL, options.behavior);
      write(
        options.batch !== null
          ? `Generating ${count} conversations as one Message Batch (Claude stand-in, behaviour "${options.behavior}"), as user ${userId}.\n`
          : `Generating ${count} conversations (Claude stand-in, behaviour "${options.behavior}"), ` +
            `${options.concurrency} at a time, as user ${userId}.\n`,
      );
      const fixed = Deno.env.get("CLAUDE_STANDIN_BEHAVIOR")?.trim();
      if (fixed && fixed !== options.behavior) {
        write(
          `  note: CLAUDE_STANDIN_BEHAVIOR=${fixed} is set; the functions send it with every call, so it wins.\n`,
        );
      }
    }

    let outcome;
    try {
      outcome = options.batch !== null
        ? await runBatchDemo({
          url: env.SUPABASE_URL,
          serviceKey: env.SUPABASE_SERVICE_ROLE_KEY,
          sql,
          items: plan.items,
          userId,
          realClaude,
          behavior: realClaude ? null : options.behavior,
          timeoutMs: options.timeoutMs,
          write,
        })
        : await runDemo({
          env,
          sql,
          options,
          items: plan.items,
          userId,
          realClaude,
          progress: new Progress({ write }, isTty),
        });
    } finally {
      await restore().catch(() => {});
    }

    write("\n" + formatResultsTable(outcome.results, { color }) + "\n\n");
    write(formatOutcomeLine(outcome) + "\n");
    const next = formatNextSteps(outcome, {
      apiUrl: env.SUPABASE_URL,
      serviceKey: env.SUPABASE_SERVICE_ROLE_KEY,
      dbUrl: env.SUPABASE_DB_URL,
      stateDir: stateDir(),
      userId,
    });
    if (next.length > 0) write("\n" + next.join("\n") + "\n");

    write("\n" + formatSummary(await healthSummary(env), { color }) + "\n");
    const noConversation = outcome.results.some((r) => r.answer === null || hasNoConversation(r));
    return outcome.timedOut || noConversation ? 1 : 0;
  } finally {
    await sql.end({ timeout: 2 });
  }
}

/** A user access token for the demo user (or --user-id), so the functions can be called as a user. */
async function userTokenLines(env: StackEnv, userId: string | null): Promise<string[]> {
  const sql = postgres(env.SUPABASE_DB_URL, { prepare: false, max: 1, onnotice: () => {} });
  try {
    return await startTokenLines(
      env.SUPABASE_DB_URL,
      env.SUPABASE_JWT_SECRET,
      await ensureDemoUser(sql, userId),
    );
  } finally {
    await sql.end({ timeout: 2 });
  }
}

async function main(): Promise<number> {
  const parsed = parseDemoOptions(Deno.args);
  if (!parsed.ok) {
    console.error(`start: ${parsed.message} (see --help)`);
    return 2;
  }
  const options = parsed.options;
  if (options.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const realClaude = (Deno.env.get("ANTHROPIC_API_KEY")?.trim() ?? "") !== "";
  const t0 = performance.now();
  write("Starting the local stack…\n");
  const env = await startStack();
  write(`Local stack up in ${((performance.now() - t0) / 1000).toFixed(1)} s.\n\n`);

  // A real generation takes one to three minutes (GENERATE.md), the stand-in milliseconds.
  const timeoutMs = !options.timeoutGiven && realClaude ? 900_000 : options.timeoutMs;
  const code = options.demo ? await demo(env, { ...options, timeoutMs }, realClaude) : 0;

  write(`\nThe local stack is running (stop it with: deno task stack:stop).\n\n`);
  write(formatStackUrls(env, { stateDir: stateDir(), realClaude }) + "\n");
  write((await userTokenLines(env, options.userId)).join("\n") + "\n");
  // The review console (served by the stack) and its two logins: the demo's items wait there for review.
  write("\n" + consoleLoginLines(env.CONSOLE_URL ?? `http://127.0.0.1:${CONSOLE_PORT}`).join("\n") + "\n");
  return code;
}

try {
  Deno.exit(await main());
} catch (err) {
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  Deno.exit(1);
}
