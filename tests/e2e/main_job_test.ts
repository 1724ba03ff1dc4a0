/**
 * The README's run command, `./bin/start`, against the test stack: it must keep that stack (same settings, so
 * the gateway is not replaced mid-suite), generate a small batch through generate-conversation, wait until
 * every conversation is terminal, print the table, the health summary and the URLs, and exit 0 even when
 * conversations went to review. Output is checked as a person (or a CI log) would read it: no colour codes
 * off a terminal, one table row per conversation, rows that exist in the database with the printed status.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { REPO_ROOT } from "../../local/paths.ts";
import { DEMO_USER_EMAIL } from "../../local/demo/run_demo.ts";
import { sql, stackEnv, stackTest, standinAdmin } from "../support/stack.ts";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const TABLE_ROW = new RegExp(`^  (\\d+)\\s+(${UUID})\\s+(\\S+)\\s+(\\S+)\\s+(\\d[\\d.]* (?:ms|s))`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment the running test stack was started with, so `stack:start` inside the job keeps it. */
async function stackSettingsEnv(): Promise<Record<string, string>> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/_internal/health`);
  const health = z.object({ extra_functions_dir: z.string().nullable() }).parse(await res.json());
  return health.extra_functions_dir ? { LOCAL_EXTRA_FUNCTIONS_DIR: health.extra_functions_dir } : {};
}

async function start(args: string[]): Promise<Run> {
  const out = await new Deno.Command(join(REPO_ROOT, "bin", "start"), {
    args,
    cwd: REPO_ROOT,
    env: { ...(await stackSettingsEnv()), NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function tableRows(stdout: string): { n: number; id: string; status: string; method: string }[] {
  return stdout.split("\n").flatMap((line) => {
    const m = TABLE_ROW.exec(line);
    return m ? [{ n: Number(m[1]), id: m[2], status: m[3], method: m[4] }] : [];
  });
}

async function gatewayPid(): Promise<number> {
  const res = await fetch(`${stackEnv().SUPABASE_URL}/_internal/health`);
  return z.object({ pid: z.number() }).parse(await res.json()).pid;
}

stackTest(
  "./bin/start --count 3: generates, waits for terminal states, prints table, health and URLs",
  async () => {
    const pidBefore = await gatewayPid();
    const behaviorBefore = await standinAdmin("behavior");
    const run = await start(["--count", "3", "--concurrency", "3"]);
    assert.equal(run.code, 0, `exit 0\n${run.stdout}\n${run.stderr}`);

    const out = run.stdout;
    assert.ok(!out.includes("\x1b["), "no escape codes when stdout is not a terminal");
    assert.match(out, /Generating 3 conversations \(Claude stand-in, behaviour "mixed"\), 3 at a time/);
    assert.match(out, /#\s+CONVERSATION\s+STATUS\s+METHOD\s+TIME\s+DETAIL/, "the table header");
    const rows = tableRows(out);
    assert.deepEqual(rows.map((r) => r.n), [1, 2, 3], out);
    assert.equal(new Set(rows.map((r) => r.id)).size, 3, "three distinct conversations");
    for (const r of rows) {
      assert.ok(
        ["completed", "parse_failed"].includes(r.status),
        `terminal: ${r.status}`,
      );
    }
    assert.equal(
      (out.match(new RegExp(`^  \\[\\d/3\\] ${UUID}`, "gm")) ?? []).length,
      3,
      "a progress line each",
    );
    assert.match(out, /^3 conversations in \d+\.\d s: /m, "the outcome line");
    assert.match(
      out,
      /^Pipeline health {2}\d{4}-\d\d-\d\d \d\d:\d\d UTC {2}(OK|FIRING)/m,
      "the health summary",
    );
    assert.match(out, /^Rules$/m);
    assert.ok(out.includes(`API URL: ${stackEnv().SUPABASE_URL}`), "the URLs, like supabase start");
    assert.ok(out.includes(`DB URL: ${stackEnv().SUPABASE_DB_URL}`));
    assert.match(out, /The local stack is running \(stop it with: deno task stack:stop\)/);
    // A user token for the demo user, accepted by the functions (review-queue lists that user's items).
    const token = /^ {6}User token: (\S+)$/m.exec(out)?.[1];
    assert.ok(token, "./bin/start prints a user token");
    const listed = await fetch(`${stackEnv().SUPABASE_URL}/functions/v1/review-queue`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.equal(listed.status, 200, await listed.clone().text());
    await listed.body?.cancel();
    // The review console's URL and a reviewer login that signs in (the Auth subset answers as GoTrue).
    const consoleUrl = /^ {2}Review console: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
    assert.ok(consoleUrl, "./bin/start prints the console's URL");
    const page = await fetch(consoleUrl);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Review console/);
    const login = /reviewer: (\S+) \/ (\S+)/.exec(out);
    assert.ok(login, "./bin/start prints a reviewer login");
    const signIn = await fetch(`${stackEnv().SUPABASE_URL}/auth/v1/token?grant_type=password`, {
      method: "POST",
      headers: { apikey: stackEnv().SUPABASE_ANON_KEY, "content-type": "application/json" },
      body: JSON.stringify({ email: login[1], password: login[2] }),
    });
    assert.equal(signIn.status, 200, await signIn.clone().text());
    assert.equal((await signIn.json()).user.app_metadata.role, "reviewer");

    // What the table says is what the database says, for the demo user.
    const db = await sql()`
    select c.conversation_id::text as id, c.processing_status, c.parse_method_used, u.email
      from public.conversations c join auth.users u on u.id = c.user_id
     where c.conversation_id = any(${rows.map((r) => r.id)}::uuid[])`;
    assert.equal(db.length, 3);
    for (const r of rows) {
      const row = db.find((d) => d.id === r.id);
      assert.ok(row, `row ${r.id}`);
      assert.equal(row.processing_status, r.status);
      assert.equal(row.parse_method_used ?? "-", r.method);
      assert.equal(row.email, DEMO_USER_EMAIL);
    }

    assert.equal(await gatewayPid(), pidBefore, "the running stack was kept, not replaced");
    assert.deepEqual(await standinAdmin("behavior"), behaviorBefore, "the stand-in's default is restored");
  },
);

stackTest(
  "./bin/start: conversations that fail to parse are reported with the review queue, exit 0",
  async () => {
    const run = await start(["--count", "2", "--behavior", "truncated"]);
    assert.equal(run.code, 0, `exit 0\n${run.stdout}\n${run.stderr}`);
    const rows = tableRows(run.stdout);
    assert.equal(rows.length, 2, run.stdout);
    for (const r of rows) assert.equal(r.status, "parse_failed");
    assert.match(run.stdout, /^2 conversations in \d+\.\d s: 2 in review$/m);
    assert.match(run.stdout, /2 conversations are in the review queue/);
    assert.match(run.stdout, /curl -s "http:\/\/127\.0\.0\.1:\d+\/functions\/v1\/review-queue\?user_id=/);
    const items = await sql()`
    select count(*)::int as n from public.conversations
     where conversation_id = any(${rows.map((r) => r.id)}::uuid[]) and requires_manual_review`;
    assert.equal(items[0].n, 2, "both are in the review queue");
  },
);

stackTest(
  "./bin/start --no-demo starts (keeps) the stack and prints its URLs without generating",
  async () => {
    const [before] = await sql()`select count(*)::int as n from public.conversations`;
    const run = await start(["--no-demo"]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes("Generating"), run.stdout);
    assert.ok(run.stdout.includes(`Functions URL: ${stackEnv().SUPABASE_URL}/functions/v1`));
    const [after] = await sql()`select count(*)::int as n from public.conversations`;
    assert.equal(after.n, before.n, "no conversation was made");
  },
);

stackTest(
  "./bin/start rejects a bad command line with exit 2 and the usage, before touching the stack",
  async () => {
    for (
      const [args, message] of [
        [["--count", "0"], "--count must be at least 1"],
        [["--count", "ten"], "--count must be a whole number"],
        [["--behavior", "slow:x"], 'Cannot read behaviour "slow:x"'],
        [["--user-id", "demo"], "--user-id must be a uuid"],
        [["--frobnicate"], "Unknown option '--frobnicate'"],
      ] as const
    ) {
      const run = await start([...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.ok(run.stderr.includes(message), `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split("\n").length, 1, `one line: ${run.stderr}`);
      assert.equal(run.stdout, "", "nothing started");
    }
  },
);
