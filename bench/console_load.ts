/**
 * `deno task bench:console [--runs 5]`
 *
 * The review console's weight and first load, on the running local stack (`deno task stack:start` builds and
 * serves it at LOCAL_CONSOLE_PORT): the built files' sizes (raw and gzipped, from the same build the stack
 * serves), then, in Debian's chromium driven by playwright-core, for each run a fresh page:
 *
 *   cold         navigation → the sign-in form rendered (HTML, app.js, app.css, config.json, first render)
 *   signed in    navigation with a stored session → the queue's first page rendered (plus one list call)
 *
 * Reports the median and the worst of the runs in milliseconds. Prints one JSON object; docs/BENCHMARKS.md
 * "## Review console" records the figures. Figures, not a test.
 */
import { join } from "node:path";
import { ensureChromium, toolsRequire } from "../local/browser.ts";
import { buildConsole } from "../local/console_build.ts";
import { ensureConsoleUsers, REVIEWER_LOGIN } from "../local/console_users.ts";
import { parseCli } from "../local/parse_cli.ts";
import { readStackEnv } from "../local/stack_env.ts";

interface Locator {
  waitFor(): Promise<void>;
  fill(v: string): Promise<void>;
  click(): Promise<void>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(s: string): Locator;
  close(): Promise<void>;
}
interface Context {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Browser {
  newContext(): Promise<Context>;
  close(): Promise<void>;
}

const { values } = parseCli("bench:console", import.meta.url, { runs: { type: "string", default: "5" } });
const runs = Math.max(1, Number(values.runs) || 5);
const env = readStackEnv();
const url = env.CONSOLE_URL ?? "http://127.0.0.1:54323";
const { chromium } = toolsRequire("playwright-core") as {
  chromium: { launch(o: { executablePath: string; args: string[] }): Promise<Browser> };
};

const build = await buildConsole(await Deno.makeTempDir({ prefix: "console-bench-" }), {
  supabaseUrl: env.SUPABASE_URL,
  anonKey: env.SUPABASE_ANON_KEY,
  functionName: "review-queue",
});
await ensureConsoleUsers(env.SUPABASE_DB_URL);
const browser = await chromium.launch({ executablePath: await ensureChromium(), args: ["--no-sandbox"] });
const cold: number[] = [];
const signedIn: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    let t = performance.now();
    await page.goto(url);
    await page.locator('form[aria-label="Sign in"]').waitFor();
    cold.push(performance.now() - t);
    await page.locator("#email").fill(REVIEWER_LOGIN.email);
    await page.locator("#password").fill(REVIEWER_LOGIN.password);
    await page.locator('button[type="submit"]').click();
    await page.locator(`[data-testid="total"]:not(:has-text("Loading"))`).waitFor();
    await page.close();
    const again = await ctx.newPage();
    t = performance.now();
    await again.goto(url);
    await again.locator('[data-testid="total"]:not(:has-text("Loading"))').waitFor();
    signedIn.push(performance.now() - t);
    await ctx.close();
  }
} finally {
  await browser.close();
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median_ms: Math.round(s[Math.floor(s.length / 2)]), max_ms: Math.round(s[s.length - 1]) };
};
const js = build.files.filter((f) => f.name.endsWith(".js"));
console.log(JSON.stringify(
  {
    files: build.files,
    javascript_gzip_bytes: js.reduce((n, f) => n + f.gzipBytes, 0),
    runs,
    cold_to_sign_in_form: stats(cold),
    signed_in_to_queue: stats(signedIn),
    url,
    console_dir: join(build.outDir),
  },
  null,
  2,
));
