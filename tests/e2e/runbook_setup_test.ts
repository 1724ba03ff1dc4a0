/**
 * The runbook's setup on a hosted-like database, then its Step 5 verbatim: a fresh database with only the
 * platform schema (local/bootstrap/platform.sql stands in for what Supabase creates), `supabase db push`
 * (Step 2), a functions host serving that database, `deno task secrets:sync` (Step 4), the Step 4b block and
 * the Step 5 block, both read from docs/RUNBOOK.md and run with bash as written.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { cliDbUrl, REPO_ROOT } from "../../local/paths.ts";
import { supabaseCli } from "../../local/proc.ts";
import { serviceRoleKey } from "../../local/keys.ts";
import { createScratchDb } from "../integration/database/_scratch_db.ts";

/** The first ```bash block under a `## <heading>` of docs/RUNBOOK.md. */
export function runbookBlock(heading: string): string {
  const text = Deno.readTextFileSync(join(REPO_ROOT, "docs", "RUNBOOK.md"));
  const start = text.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `docs/RUNBOOK.md has "## ${heading}"`);
  const m = /```bash\n([\s\S]*?)```/.exec(text.slice(start));
  assert.ok(m, `"## ${heading}" has a bash block`);
  return m[1];
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function healthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/_internal/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return true;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

Deno.test({
  name:
    "runbook: db push, secrets:sync, Step 4b (scaffolding + user), then Step 5 verbatim on a fresh database",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const db = await createScratchDb("runbook_fresh", []);
    const state = Deno.makeTempDirSync({ prefix: "runbook-setup-" });
    Deno.chmodSync(state, 0o755);
    const apiPort = freePort();
    const supabaseUrl = `http://127.0.0.1:${apiPort}`;
    let gateway: Deno.ChildProcess | null = null;
    try {
      // Step 2
      await supabaseCli(["db", "push", "--db-url", cliDbUrl(db.url), "--yes"]);
      const [{ n }] = await db.sql`select count(*)::int as n from public.personas`;
      assert.equal(n, 0, "db push loads no scaffolding: that is Step 4b's job");

      // The functions, served for this database (hosted: supabase functions deploy).
      gateway = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-no-legacy-abort", "local/gateway/main.ts"],
        cwd: REPO_ROOT,
        env: {
          DATABASE_URL: db.url,
          LOCAL_STACK_DIR: state,
          LOCAL_API_PORT: String(apiPort),
          LOCAL_CLAUDE_PORT: String(freePort()),
          LOCAL_CONSOLE_PORT: String(freePort()),
          LOCAL_FUNCTIONS_NO_OUTBOUND: "1",
        },
        stdout: "null",
        stderr: "null",
      }).spawn();
      assert.ok(await healthy(supabaseUrl, 60_000), "the functions host came up");

      const env: Record<string, string> = {
        PATH: `${dirname(Deno.execPath())}:${join(REPO_ROOT, "tools", "node_modules", ".bin")}:${
          Deno.env.get("PATH") ?? ""
        }`,
        DB_URL: db.url,
        SUPABASE_URL: supabaseUrl,
        SERVICE_KEY: await serviceRoleKey(),
        NO_COLOR: "1",
      };
      const bash = async (script: string) => {
        const out = await new Deno.Command("bash", {
          args: ["-euo", "pipefail", "-c", script],
          cwd: REPO_ROOT,
          env,
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const dec = new TextDecoder();
        return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
      };
      // Step 4's Vault secrets (the storage trigger and the cron jobs call the functions with them).
      const sync = await bash(
        `deno task secrets:sync --db-url "$DB_URL" --project-url "$SUPABASE_URL" --service-key "$SERVICE_KEY"`,
      );
      assert.equal(sync.code, 0, sync.stderr);

      // Step 4b, then Step 5, as written.
      const script = `${runbookBlock("Step 4b")}\n${runbookBlock("Step 5")}`;
      const res = await bash(script);
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      const [user] = await db.sql`select id::text from auth.users where email = 'smoke-test@example.com'`;
      assert.ok(user, "Step 4b created the smoke-test user");
      const created = /\{"conversation_id":"([0-9a-f-]{36})"[^\n]*\}/.exec(res.stdout);
      assert.ok(created, `Step 5's curl answered with a conversation: ${res.stdout}`);
      const body = JSON.parse(created[0]);
      assert.ok(["completed", "raw_stored"].includes(body.processing_status), body.processing_status);
      assert.match(res.stdout, new RegExp(`${created[1]}.*raw/${user.id}/${created[1]}\\.json`));
      const [row] = await db.sql`
        select user_id::text, raw_response_path from public.conversations where conversation_id = ${
        created[1]
      }`;
      assert.equal(row.user_id, user.id);
      assert.ok(existsSync(state));
    } finally {
      if (gateway) {
        try {
          gateway.kill("SIGTERM");
        } catch { /* gone */ }
        await gateway.status;
      }
      await db.drop();
      Deno.removeSync(state, { recursive: true });
    }
  },
});
