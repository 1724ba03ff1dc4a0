/**
 * Run only inside the nested `./bin/test` of tests/e2e/isolation/bin_test_isolation_test.ts
 * (ISOLATION_FIXTURE=1): on the test stack it opens a review queue above its threshold and runs
 * storage-health-monitor for real, so an alert fires — and must reach no webhook. Ignored everywhere else.
 */
import assert from "node:assert/strict";
import { closeSql, createTestUser, functionsUrl, serviceKey, sql } from "../../support/stack.ts";

Deno.test({
  name: "isolation fixture: the test stack fires an alert and delivers it nowhere",
  ignore: Deno.env.get("ISOLATION_FIXTURE") !== "1",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const user = await createTestUser();
    await sql()`
      insert into public.conversations (user_id, processing_status, created_at, updated_at, raw_response_path,
                                        raw_response_size, raw_stored_at, requires_manual_review,
                                        parse_error_message)
      select ${user.id}::uuid, 'parse_failed', now() - interval '3 hours', now() - interval '3 hours',
             'raw/' || ${user.id} || '/' || gen_random_uuid() || '.json', 1000, now() - interval '3 hours', true,
             'Cannot parse: not JSON'
        from generate_series(1, 11)`;
    const res = await fetch(functionsUrl("storage-health-monitor"), {
      method: "POST",
      headers: { Authorization: `Bearer ${serviceKey()}`, "Content-Type": "application/json" },
      body: "{}",
    });
    const summary = await res.json();
    assert.equal(res.status, 200, JSON.stringify(summary));
    assert.equal(
      summary.notifications.webhook,
      "not_configured",
      "the .env's ALERT_WEBHOOK_URL is not passed on",
    );
    const queue = summary.rules.find((r: { rule: string }) => r.rule === "manual_review_queue");
    assert.equal(queue?.state, "firing", JSON.stringify(summary.rules));
    const [{ n }] = await sql()`select count(*)::int as n from public.alerts where resolved_at is null`;
    assert.ok(n >= 1, "an alert is open");
    await closeSql();
  },
});
