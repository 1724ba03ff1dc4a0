/**
 * storage-health-monitor and raw-retention through the local stack's gateway, as pg_cron reaches them:
 * service key only (verify_jwt = false, checked in code), the JSON summary, and the cron job → pg_net →
 * function path end to end.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { REPO_ROOT } from "../../../local/paths.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import {
  anonKey,
  createTestUser,
  eventually,
  functionsUrl,
  serviceKey,
  sql,
  stackEnv,
  stackTest,
} from "../../support/stack.ts";

function call(name: string, key: string | null, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (init.body) headers.set("content-type", "application/json");
  return fetch(functionsUrl(name), { method: "POST", ...init, headers });
}

for (const name of ["storage-health-monitor", "raw-retention"]) {
  stackTest(`${name} refuses callers without the service key with a JSON error`, async () => {
    const user = await createTestUser();
    const cases: Array<[string | null, number, string]> = [
      [null, 401, "unauthorized"],
      [anonKey(), 403, "forbidden"],
      [user.token, 403, "forbidden"],
    ];
    for (const [key, status, code] of cases) {
      const res = await call(name, key, { body: '{"dry_run": true}' });
      assert.equal(res.status, status, `${name} with ${key === null ? "no key" : "a non-service key"}`);
      assert.equal((await res.json()).error.code, code);
    }
  });
}

stackTest(
  "storage-health-monitor answers a dry run with the health numbers and every rule's state",
  async () => {
    const res = await call("storage-health-monitor", serviceKey(), { body: '{"dry_run": true}' });
    assert.equal(res.status, 200);
    const s = await res.json();
    assert.equal(s.dry_run, true);
    assert.deepEqual(s.rules.map((r: { rule: string }) => r.rule), [...RULE_KEYS]);
    for (const r of s.rules) {
      assert.ok(["ok", "firing", "disabled", "unavailable"].includes(r.state), `${r.rule}: ${r.state}`);
      assert.equal(typeof r.threshold, "number");
    }
    assert.ok("total_conversations" in s.health, "raw_storage_health's columns");
    assert.ok("manual_review_count" in s.health);
    // A run stamps the alerts it opens with its own time: none may carry the dry run's.
    const [opened] = await sql()`
    select count(*)::int as n from public.alerts where fired_at = ${s.checked_at}::timestamptz`;
    assert.equal(opened.n, 0, "a dry run opens no alert");
  },
);

stackTest("raw-retention is off unless RAW_RETENTION_DAYS is set for the function", async () => {
  let configured = false;
  try {
    configured = /^\s*RAW_RETENTION_DAYS\s*=\s*\S/m.test(
      Deno.readTextFileSync(join(REPO_ROOT, "supabase", "functions", ".env")),
    );
  } catch { /* no .env: the default */ }
  const res = await call("raw-retention", serviceKey(), { body: '{"dry_run": true}' });
  assert.equal(res.status, 200);
  const report = await res.json();
  assert.equal(report.enabled, configured);
  if (!configured) {
    assert.match(report.reason, /RAW_RETENTION_DAYS is not set/);
    assert.deepEqual(report.would_delete, []);
  }
});

stackTest("the storage-health-monitor cron job reaches the function through pg_net and Vault", async () => {
  // The stack's database calls functions with the URL and key from Vault (deno task secrets:sync).
  await syncSecrets(stackEnv().SUPABASE_DB_URL, stackEnv().SUPABASE_URL, serviceKey());
  const [job] = await sql()`select command from cron.job where jobname = 'storage-health-monitor'`;
  const [queued] = await sql().unsafe(`${job.command} as request_id`);
  const id = String(queued.request_id);
  assert.match(id, /^\d+$/, "the job queued one pg_net request");
  const response = await eventually(async () => {
    const [row] = await sql()`
      select status_code, content, timed_out, error_msg from net._http_response where id = ${id}::bigint`;
    return row ?? null;
  }, { timeoutMs: 20_000 });
  assert.equal(response.error_msg, null);
  assert.equal(response.status_code, 200);
  const summary = JSON.parse(String(response.content));
  assert.equal(summary.dry_run, false, "the cron run is a real run");
  assert.equal(summary.rules.length, RULE_KEYS.length);
});
