/**
 * The gateway's pg_net worker: `net.http_post` from SQL reaches an Edge Function after commit and its
 * response is recorded once in net._http_response; a slow endpoint is recorded as timed out (never retried);
 * a rolled-back transaction sends nothing. And `deno task cron:run` runs a pg_cron job's command now.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../../local/paths.ts";
import {
  eventually,
  functionsUrl,
  requireTestFunctions,
  serviceKey,
  sql,
  stackTest,
} from "../../support/stack.ts";

interface ResponseRow {
  status_code: number | null;
  content_type: string | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
}

async function responseFor(id: string, timeoutMs = 10_000): Promise<ResponseRow> {
  return await eventually(async () => {
    const [row] = await sql()<ResponseRow[]>`
      select status_code, content_type, content, timed_out, error_msg from net._http_response where id = ${id}`;
    return row;
  }, { timeoutMs, what: `net._http_response row ${id}` });
}

stackTest(
  "pg_net: net.http_post reaches an Edge Function after commit and records its response once",
  async () => {
    await requireTestFunctions();
    const marker = crypto.randomUUID();
    const [{ id }] = await sql()<{ id: string }[]>`
    select net.http_post(
      url := ${functionsUrl("stack-echo")},
      body := ${sql().json({ marker })},
      headers := ${
      sql().json({ "Content-Type": "application/json", Authorization: `Bearer ${serviceKey()}` })
    }
    )::text as id`;
    const res = await responseFor(id);
    assert.equal(res.status_code, 200);
    assert.match(res.content_type ?? "", /^application\/json/);
    assert.equal(res.timed_out, false);
    const echo = JSON.parse(res.content ?? "{}");
    assert.deepEqual(JSON.parse(echo.body), { marker });
    assert.equal(echo.authorization, true);
    const queued = await sql()`select 1 from net.http_request_queue where id = ${id}`;
    assert.equal(queued.length, 0, "the request left the queue");
    const [{ n }] = await sql()<
      { n: number }[]
    >`select count(*)::int as n from net._http_response where id = ${id}`;
    assert.equal(n, 1, "exactly one response row (no retries)");
  },
);

stackTest(
  "pg_net: a request slower than its timeout is recorded as timed out, without a status",
  async () => {
    await requireTestFunctions();
    const [{ id }] = await sql()<{ id: string }[]>`
    select net.http_post(url := ${
      functionsUrl("stack-slow") + "?ms=1200"
    }, timeout_milliseconds := 300)::text as id`;
    const res = await responseFor(id);
    assert.equal(res.timed_out, true);
    assert.equal(res.status_code, null);
    assert.match(res.error_msg ?? "", /Timeout of 300 ms reached/);
  },
);

stackTest(
  "pg_net: an HTTP error status is recorded as is, and an unreachable host as an error message",
  async () => {
    await requireTestFunctions();
    const [{ id }] = await sql()<{ id: string }[]>`
    select net.http_post(url := ${functionsUrl("stack-public-echo") + "?status=503"})::text as id`;
    assert.equal((await responseFor(id)).status_code, 503);
    const [{ id: id2 }] = await sql()<{ id: string }[]>`
    select net.http_get(url := 'http://127.0.0.1:9/nothing-listens-here')::text as id`;
    const res = await responseFor(id2);
    assert.equal(res.status_code, null);
    assert.equal(res.timed_out, false);
    assert.ok((res.error_msg ?? "").length > 0);
  },
);

stackTest("pg_net: a rolled-back transaction sends nothing", async () => {
  await requireTestFunctions();
  let id = "";
  await sql().begin(async (tx) => {
    const [row] = await tx<{ id: string }[]>`
      select net.http_post(url := ${functionsUrl("stack-public-echo")})::text as id`;
    id = row.id;
    await tx`select pg_notify('pg_net_queue', ${id})`;
    throw new Error("roll back");
  }).catch(() => {});
  assert.ok(id !== "");
  await new Promise((r) => setTimeout(r, 1500)); // longer than the worker's 1 s poll
  const rows = await sql()`select 1 from net._http_response where id = ${id}`;
  assert.equal(rows.length, 0);
});

stackTest("cron:run runs a scheduled job's command now", async () => {
  const job = `stack-conformance-${crypto.randomUUID().slice(0, 8)}`;
  const marker = crypto.randomUUID();
  await sql().unsafe(`
    create schema if not exists stack_test;
    create table if not exists stack_test.cron_marks (marker text primary key, who text)`);
  await sql()`select cron.schedule(${job}, '0 0 1 1 *',
    ${`insert into stack_test.cron_marks (marker, who) values ('${marker}', current_user)`})`;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(REPO_ROOT, "local", "cron_run.ts"), job],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const [row] = await sql()<
      { who: string }[]
    >`select who from stack_test.cron_marks where marker = ${marker}`;
    assert.equal(row?.who, "postgres", "the command ran as the job's owner");
    const missing = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(REPO_ROOT, "local", "cron_run.ts"), `${job}-missing`],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(missing.code, 1);
    assert.match(new TextDecoder().decode(missing.stderr), /no such job/);
  } finally {
    await sql()`select cron.unschedule(${job})`;
  }
});
