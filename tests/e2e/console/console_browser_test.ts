/**
 * The review console in a real browser (Debian's chromium driven by playwright-core), against the test stack's
 * console port, the path a new reviewer takes: sign in, find the item the stand-in's `truncated` behaviour
 * produced, see the cut marked, fix it in the editor (one schema error shown inline first), resolve → the row
 * is completed/manual; dismiss another with the keyboard; a plain user sees only their own items; the health
 * page draws its charts from the seeded data (checked on the chart's data, not its pixels); no console errors;
 * axe-core finds no serious or critical violation.
 *
 * UPDATE_SCREENSHOTS=1 also writes docs/console-*.png (docs/CONSOLE.md shows them).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureChromium, toolsRequire } from "../../../local/browser.ts";
import { DEMO_LOGIN, ensureConsoleUsers, REVIEWER_LOGIN } from "../../../local/console_users.ts";
import { REPO_ROOT } from "../../../local/paths.ts";
import {
  closePipeline,
  createUser,
  ensureSecrets,
  stackEnv,
  waitForStatus,
} from "../../integration/parse/_pipeline.ts";

interface Locator {
  click(): Promise<void>;
  fill(value: string): Promise<void>;
  waitFor(opts?: { state?: string; timeout?: number }): Promise<void>;
  count(): Promise<number>;
  textContent(): Promise<string | null>;
  getAttribute(name: string): Promise<string | null>;
  inputValue(): Promise<string>;
  first(): Locator;
  scrollIntoViewIfNeeded(): Promise<void>;
}
interface ConsoleMessage {
  type(): string;
  text(): string;
  location(): { url: string };
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string): Locator;
  getByLabel(text: string | RegExp, opts?: { exact?: boolean }): Locator;
  getByRole(role: string, opts?: { name?: string | RegExp }): Locator;
  keyboard: { press(key: string): Promise<void> };
  on(event: "console", fn: (m: ConsoleMessage) => void): void;
  on(event: "pageerror", fn: (e: Error) => void): void;
  evaluate<T>(script: string): Promise<T>;
  addScriptTag(opts: { content: string }): Promise<unknown>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  close(): Promise<void>;
}
interface Browser {
  newPage(opts?: { viewport?: { width: number; height: number }; bypassCSP?: boolean }): Promise<Page>;
  close(): Promise<void>;
}
const { chromium } = toolsRequire("playwright-core") as {
  chromium: { launch(opts: { executablePath: string; args?: string[] }): Promise<Browser> };
};
const axe = toolsRequire("axe-core") as { source: string };

const opts = { sanitizeResources: false, sanitizeOps: false };
const env = stackEnv();
const CONSOLE_URL = (env as { CONSOLE_URL?: string }).CONSOLE_URL ?? "http://127.0.0.1:54333";
const SHOTS = Deno.env.get("UPDATE_SCREENSHOTS") === "1";

/** Fixed scaffolding ids from supabase/seed.sql (docs/DATABASE.md). */
const BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

async function standin(behavior: string | null): Promise<void> {
  const res = await fetch(`${env.ANTHROPIC_BASE_URL}/__admin/behavior`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ behavior }),
  });
  assert.equal(res.status, 200, await res.text());
}

/** One conversation generated as `userId` with the stand-in's `behavior`, waited for until parsed. */
async function generate(userId: string, behavior: string): Promise<string> {
  await standin(behavior);
  try {
    const res = await fetch(`${env.SUPABASE_URL}/functions/v1/generate-conversation`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`,
        "x-user-id": userId,
        "content-type": "application/json",
      },
      body: JSON.stringify(BODY),
    });
    const json = await res.json();
    assert.equal(res.status, 201, JSON.stringify(json));
    const row = await waitForStatus(json.conversation_id);
    assert.equal(row.processing_status, "parse_failed", `${behavior}: ${JSON.stringify(row)}`);
    return json.conversation_id;
  } finally {
    await standin(null);
  }
}

async function signIn(page: Page, login: { email: string; password: string }): Promise<void> {
  await page.goto(CONSOLE_URL);
  await page.getByLabel("Email").fill(login.email);
  await page.getByLabel("Password").fill(login.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("table.queue").waitFor();
}

/** axe-core on the current page: the ids of serious and critical violations. */
async function axeSerious(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axe.source });
  return await page.evaluate<string[]>(
    `axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations
       .filter((v) => v.impact === "serious" || v.impact === "critical")
       .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", ")))`,
  );
}

/** Collects console errors and page errors; an expected 400 (the schema round of resolve) is not one. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (/status of 400/.test(m.text()) && m.location().url.endsWith("/resolve")) return;
    errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/** Presses j until the row with `id` is selected (keyboard navigation as a reviewer does it). */
async function selectRow(page: Page, id: string): Promise<void> {
  await page.locator(`tr[data-id="${id}"]`).waitFor();
  for (let i = 0; i < 100; i++) {
    if (await page.locator(`tr[data-id="${id}"][aria-selected="true"]`).count() === 1) return;
    await page.keyboard.press("j");
  }
  throw new Error(`row ${id} never got selected`);
}

Deno.test({
  name:
    "console: a reviewer resolves a truncated item and dismisses another; a plain user sees only their own",
  ...opts,
  fn: async () => {
    await ensureSecrets();
    await ensureConsoleUsers(env.SUPABASE_DB_URL);
    const executablePath = await ensureChromium();
    const other = await createUser();
    const truncated = await generate(DEMO_LOGIN.id, "truncated");
    const refused = await generate(other, "refusal");

    const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
    try {
      // ---- a plain user: their own item, not another user's; no health link
      const plain = await browser.newPage({ viewport: { width: 1100, height: 800 } });
      const plainErrors = watchErrors(plain);
      await signIn(plain, DEMO_LOGIN);
      await plain.locator(`tr[data-id="${truncated}"]`).waitFor();
      assert.equal(
        await plain.locator(`tr[data-id="${refused}"]`).count(),
        0,
        "another user's item is hidden",
      );
      assert.equal(await plain.getByRole("link", { name: "Health" }).count(), 0);
      assert.deepEqual(plainErrors, []);
      await plain.close();

      // ---- a reviewer
      // axe-core is injected as an inline script, which the console's CSP forbids (the plain user's page keeps it).
      const page = await browser.newPage({ viewport: { width: 1100, height: 800 }, bypassCSP: true });
      const errors = watchErrors(page);
      const t0 = performance.now();
      await signIn(page, REVIEWER_LOGIN);
      console.log(`sign-in to first queue render: ${(performance.now() - t0).toFixed(0)} ms`);
      await page.locator(`tr[data-id="${refused}"]`).waitFor();
      assert.deepEqual(await axeSerious(page), [], "queue: no serious accessibility violation");
      if (SHOTS) await page.screenshot({ path: join(REPO_ROOT, "docs", "console-queue.png") });

      // find the truncated item with the keyboard and open it
      await selectRow(page, truncated);
      await page.keyboard.press("Enter");
      await page.locator("#truncation-point").waitFor();
      assert.match((await page.locator("#truncation-point").textContent()) ?? "", /max_tokens/);
      assert.deepEqual(await axeSerious(page), [], "item: no serious accessibility violation");
      if (SHOTS) {
        await page.locator("#truncation-point").scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(REPO_ROOT, "docs", "console-item-raw.png") });
      }

      // the editor starts from the salvage; one schema error first, shown inline by path
      const salvage = JSON.parse(await page.getByLabel(/Corrected conversation/).inputValue());
      const turns = (salvage.turns as Array<{ role: string }>).slice();
      while (turns.length > 0 && turns[turns.length - 1].role !== "assistant") turns.pop();
      assert.ok(turns.length >= 2, `the salvage keeps a usable run of turns: ${JSON.stringify(salvage)}`);
      const fixed = { ...salvage, turns };
      const broken = structuredClone(fixed);
      broken.turns[0].role = "narrator";
      await page.getByLabel(/Corrected conversation/).fill(JSON.stringify(broken, null, 2));
      await page.getByRole("button", { name: "Resolve" }).click();
      await page.locator("ul.issues li").first().waitFor();
      assert.equal(await page.locator("ul.issues li").count(), 1);
      assert.match(
        (await page.locator("ul.issues li").first().textContent()) ?? "",
        /conversation\.turns\[0\]\.role/,
      );
      if (SHOTS) await page.screenshot({ path: join(REPO_ROOT, "docs", "console-item.png") });

      await page.getByLabel(/Corrected conversation/).fill(JSON.stringify(fixed, null, 2));
      await page.getByRole("button", { name: "Resolve" }).click();
      await page.locator('[data-testid="status"]:has-text("completed / manual")').waitFor();
      const row = await waitForStatus(truncated);
      assert.equal(row.processing_status, "completed");
      assert.equal(row.parse_method_used, "manual");

      // dismiss the other with the keyboard: back to the queue, j to the row, d, a reason
      await page.goto(`${CONSOLE_URL}/#/queue`);
      await selectRow(page, refused);
      await page.keyboard.press("d");
      await page.getByLabel(/Reason to dismiss/).fill("duplicate of another item");
      await page.getByRole("button", { name: "Dismiss" }).click();
      await page.locator('[role="status"]:has-text("Dismissed")').waitFor();
      // The notice shows when the API answered; the list reloads right after: wait for the row to leave.
      await page.locator(`tr[data-id="${refused}"]`).waitFor({ state: "detached" });

      // health: charts drawn from the seeded data
      await page.goto(`${CONSOLE_URL}/#/health`);
      await page.locator("#chart-success canvas").waitFor();
      const series = JSON.parse(
        (await page.locator("#chart-success").getAttribute("data-series")) ?? "[]",
      ) as [
        number[],
        Array<number | null>,
      ];
      assert.ok(series[0].length > 0, "at least the current hour");
      assert.equal(series[0].length, series[1].length);
      assert.ok(series[1].some((v) => v !== null && v < 100), "this run's failures lower the success rate");
      const growth = JSON.parse((await page.locator("#chart-growth").getAttribute("data-series")) ?? "[]");
      assert.equal(growth[0].length, series[0].length);
      assert.ok(await page.locator('tr[data-rule="manual_review_queue"]').count() === 1);
      assert.deepEqual(await axeSerious(page), [], "health: no serious accessibility violation");
      if (SHOTS) await page.screenshot({ path: join(REPO_ROOT, "docs", "console-health.png") });

      assert.deepEqual(errors, [], "no console errors");
      await page.close();
    } finally {
      await browser.close();
      await closePipeline();
    }
  },
});
