/**
 * The test run's own stack: `./bin/test` (local/test_all.ts) imports this module FIRST, so that every module
 * it loads afterwards (local/paths.ts reads the ports once, at load) and every process it starts see the test
 * stack's state folder and ports instead of the developer's.
 *
 *   LOCAL_TEST_STACK_DIR    the test stack's state folder      default <repo>/.local-stack-test
 *   LOCAL_TEST_DB_PORT      its PostgreSQL port                default LOCAL_DB_PORT + 10     (54332)
 *   LOCAL_TEST_API_PORT     its gateway port                   default LOCAL_API_PORT + 10    (54331)
 *   LOCAL_TEST_CLAUDE_PORT  its Claude stand-in port           default LOCAL_CLAUDE_PORT + 10 (54340)
 *   LOCAL_TEST_CONSOLE_PORT its review console port            default LOCAL_CONSOLE_PORT + 10 (54333)
 *
 * Deriving the test ports from the dev ports (+10) keeps them apart from a dev stack on the defaults
 * (54321/54322/54330) and keeps two checkouts apart when each sets its own LOCAL_*_PORT.
 *
 * The test stack is also cut off from the outside: the functions do not get the outbound settings of
 * supabase/functions/.env (ALERT_WEBHOOK_URL, a real ANTHROPIC_API_KEY, … — see OUTBOUND_SETTING in
 * local/gateway/functions/hosted_env.ts), and a real ANTHROPIC_API_KEY in the shell is not passed on. A test
 * that needs a webhook or a base URL sets its own (its own stack, or the handler's deps in process).
 *
 * DATABASE_URL (pointing the tests at an existing database, docs/DEVELOPMENT.md) is left as it is.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

/** The test stack's variables, from the environment `get` reads (pure, for tests). */
export function testStackEnv(get: (name: string) => string | undefined): Record<string, string> {
  const port = (testName: string, devName: string, devDefault: number): string => {
    const own = get(testName)?.trim();
    if (own) return own;
    const dev = Number(get(devName)?.trim() || devDefault);
    return String((Number.isInteger(dev) ? dev : devDefault) + 10);
  };
  return {
    LOCAL_STACK_DIR: get("LOCAL_TEST_STACK_DIR")?.trim() || join(REPO_ROOT, ".local-stack-test"),
    LOCAL_DB_PORT: port("LOCAL_TEST_DB_PORT", "LOCAL_DB_PORT", 54322),
    LOCAL_API_PORT: port("LOCAL_TEST_API_PORT", "LOCAL_API_PORT", 54321),
    LOCAL_CLAUDE_PORT: port("LOCAL_TEST_CLAUDE_PORT", "LOCAL_CLAUDE_PORT", 54330),
    LOCAL_CONSOLE_PORT: port("LOCAL_TEST_CONSOLE_PORT", "LOCAL_CONSOLE_PORT", 54323),
    /** Read by the gateway (hosted_env.ts): drop outbound settings from supabase/functions/.env. */
    LOCAL_FUNCTIONS_NO_OUTBOUND: "1",
  };
}

/** Switches this process (and so its children) to the test stack. A nested run keeps the outer one's. */
export function useTestStack(): void {
  if (Deno.env.get("LOCAL_TEST_STACK_ACTIVE") === "1") return;
  for (const [k, v] of Object.entries(testStackEnv((n) => Deno.env.get(n)))) Deno.env.set(k, v);
  Deno.env.set("LOCAL_TEST_STACK_ACTIVE", "1");
  Deno.env.delete("ANTHROPIC_API_KEY");
}

// Only in the test runner itself: importing this module elsewhere (a unit test) changes nothing.
if (Deno.mainModule.endsWith("/local/test_all.ts")) useTestStack();
