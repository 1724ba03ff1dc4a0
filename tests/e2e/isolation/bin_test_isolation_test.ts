/**
 * `./bin/test` never touches the developer's stack: a "dev" stack runs (its own state folder and ports, demo
 * rows, a raw file, and a secrets file whose ALERT_WEBHOOK_URL points at a listener here); then a nested
 * `local/test_all.ts --only deno` runs with that dev stack's variables exported, as a developer would run
 * `./bin/test`, and fires a real alert on its own stack (tests/e2e/isolation/alerting_fixture_test.ts).
 * Afterwards the dev stack's rows, files and gateway are as they were and the webhook received nothing.
 *
 * The nested run gets its own test ports (LOCAL_TEST_*: the outer test stack already holds the +10 defaults).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { readStackEnv } from "../../../local/stack_env.ts";
import { runDeno as runDenoIn } from "../../support/run_deno.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** PATH/HOME/DENO_DIR only: nothing of the outer test run (DATABASE_URL, LOCAL_*) leaks in. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const k of ["PATH", "HOME", "DENO_DIR", "PG_BIN", "TMPDIR"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/** A command with exactly the environment given (nothing inherited from this test's own stack). */
function runDeno(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return runDenoIn(args, { env, clearEnv: true });
}

function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

async function rowsDigest(sql: postgres.Sql): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (
    const t of [
      "auth.users",
      "public.personas",
      "public.prompt_templates",
      "public.conversations",
      "public.conversation_parse_attempts",
      "public.alerts",
      "storage.objects",
    ]
  ) {
    const [{ d }] = await sql.unsafe(
      `select count(*)::text || ':' || coalesce(md5(string_agg(md5(t::text), ',' order by md5(t::text))), '')
         as d from ${t} t`,
    );
    out[t] = String(d);
  }
  return out;
}

Deno.test({
  name: "./bin/test leaves a running dev stack's rows and files untouched and sends nothing to its webhook",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const work = Deno.makeTempDirSync({ prefix: "bin-test-isolation-" });
    // Reachable by the postgres OS user, so both clusters live (and are removed) under this folder.
    Deno.chmodSync(work, 0o755);
    const hits: string[] = [];
    const hookPort = freePort();
    const hook = Deno.serve({ hostname: "127.0.0.1", port: hookPort, onListen: () => {} }, async (req) => {
      hits.push(`${req.method} ${new URL(req.url).pathname} ${await req.text()}`);
      return new Response("ok");
    });
    const dotenv = join(work, "functions.env");
    Deno.writeTextFileSync(dotenv, `ALERT_WEBHOOK_URL=http://127.0.0.1:${hookPort}/hook\n`);
    const dev = {
      ...baseEnv(),
      LOCAL_STACK_DIR: join(work, "dev"),
      LOCAL_DB_PORT: String(freePort()),
      LOCAL_API_PORT: String(freePort()),
      LOCAL_CLAUDE_PORT: String(freePort()),
      LOCAL_CONSOLE_PORT: String(freePort()),
      // Stands in for supabase/functions/.env (the developer's real file is not touched by this test).
      LOCAL_FUNCTIONS_DOTENV: dotenv,
    };
    const testPorts = {
      LOCAL_TEST_STACK_DIR: join(work, "test"),
      LOCAL_TEST_DB_PORT: String(freePort()),
      LOCAL_TEST_API_PORT: String(freePort()),
      LOCAL_TEST_CLAUDE_PORT: String(freePort()),
      LOCAL_TEST_CONSOLE_PORT: String(freePort()),
    };
    let sql: postgres.Sql | null = null;
    try {
      const started = await runDeno(["run", "-A", "local/stack.ts", "start", "--quiet"], dev);
      assert.equal(started.code, 0, started.out);
      const stackEnv = readStackEnv(dev.LOCAL_STACK_DIR);
      sql = postgres(stackEnv.SUPABASE_DB_URL, { prepare: false, max: 1, onnotice: () => {} });
      // Demo rows and a raw file on the dev stack.
      const userId = crypto.randomUUID();
      await sql`insert into auth.users (id, email, aud, role) values (${userId}, ${userId + "@dev.local"},
                'authenticated', 'authenticated')`;
      await sql`insert into public.conversations (user_id, processing_status) values (${userId}, 'generating')`;
      const upload = await fetch(
        `${stackEnv.SUPABASE_URL}/storage/v1/object/conversation-files/${userId}/demo.json`,
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${stackEnv.SUPABASE_SERVICE_ROLE_KEY}`,
            "Content-Type": "application/json",
          },
          body: '{"demo":true}',
        },
      );
      assert.equal(upload.status, 200, await upload.text());
      const gatewayBefore = Deno.readTextFileSync(join(dev.LOCAL_STACK_DIR, "gateway.json"));
      // The dev stack's own schedules (sweeper, monitor every 5 minutes) would change its rows during a long
      // nested run (an alert about the demo's `generating` row): stop them, so any change is the nested run's.
      await sql`select cron.unschedule(jobid) from cron.job`;
      const rowsBefore = await rowsDigest(sql);
      const filesBefore = filesUnder(join(dev.LOCAL_STACK_DIR, "storage"));
      assert.ok(Object.keys(filesBefore).length > 0, "the dev stack holds a raw file");
      await sql.end();
      sql = null;

      const nested = await runDeno(
        ["run", "-A", "local/test_all.ts", "--only", "deno", "--", "--filter", "isolation fixture"],
        { ...dev, ...testPorts, ISOLATION_FIXTURE: "1" },
      );
      assert.equal(nested.code, 0, nested.out.slice(-4000));
      assert.match(nested.out, /\n1 passed, 0 failed\s*$/, nested.out.slice(-2000));
      assert.ok(
        existsSync(join(testPorts.LOCAL_TEST_STACK_DIR, "stack.env.json")),
        "the test stack has its own folder",
      );

      sql = postgres(stackEnv.SUPABASE_DB_URL, { prepare: false, max: 1, onnotice: () => {} });
      assert.deepEqual(await rowsDigest(sql), rowsBefore, "the dev stack's rows are untouched");
      assert.deepEqual(
        filesUnder(join(dev.LOCAL_STACK_DIR, "storage")),
        filesBefore,
        "its files are untouched",
      );
      assert.equal(
        Deno.readTextFileSync(join(dev.LOCAL_STACK_DIR, "gateway.json")),
        gatewayBefore,
        "its gateway was not restarted",
      );
      assert.deepEqual(hits, [], "the webhook in the secrets file received nothing");
    } finally {
      await sql?.end();
      const testEnv = {
        ...baseEnv(),
        LOCAL_STACK_DIR: testPorts.LOCAL_TEST_STACK_DIR,
        LOCAL_DB_PORT: testPorts.LOCAL_TEST_DB_PORT,
        LOCAL_API_PORT: testPorts.LOCAL_TEST_API_PORT,
        LOCAL_CLAUDE_PORT: testPorts.LOCAL_TEST_CLAUDE_PORT,
        LOCAL_CONSOLE_PORT: testPorts.LOCAL_TEST_CONSOLE_PORT,
      };
      for (const env of [testEnv, dev]) {
        if (existsSync(env.LOCAL_STACK_DIR)) await runDeno(["run", "-A", "local/stack.ts", "stop"], env);
      }
      await hook.shutdown();
      Deno.removeSync(work, { recursive: true });
    }
  },
});
