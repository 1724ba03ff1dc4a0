/**
 * The monitor against real SQL (the health functions, the alerts table and its guarded transitions) and a real
 * HTTP webhook on 127.0.0.1: every rule fires on fixtures and resolves once they are gone; the cooldown; a
 * webhook that is down; no webhook at all. Each test runs in a rolled-back transaction on an empty pipeline.
 */
import { fixedClock } from "../../../shared/pipeline/clock.ts";
import assert from "node:assert/strict";
import { noAlertSink, WEBHOOK_NOT_CONFIGURED } from "../../../shared/monitor/alert_sink.ts";
import { webhookAlertSink } from "../../../shared/adapters/webhook_alert_sink.ts";
import type { TxSql } from "../../../shared/adapters/postgres_sql.ts";
import { postgresMonitorStore } from "../../../shared/adapters/postgres_monitor_store.ts";
import { setLogSink } from "../../../shared/log.ts";
import { type MonitorDeps, runMonitor } from "../../../shared/monitor/run_monitor.ts";
import { RULE_KEYS } from "../../../shared/monitor/rules.ts";
import {
  createUser,
  insertConversations,
  spool,
  uploadedReviewItems,
  withEmptyPipeline,
} from "./_monitor_db.ts";
import { startTestWebhook } from "./_test_webhook.ts";

const MINUTE = 60_000;

function quietLogs(): () => void {
  const prev = setLogSink(() => {});
  return () => setLogSink(prev);
}

/** Fixture rows that push every rule over its seeded threshold. */
async function breakEverything(tx: TxSql, user: string): Promise<void> {
  // manual_review_queue > 10 (3 hours old: outside the last hour's rates).
  await insertConversations(tx, user, {
    status: "parse_failed",
    ageMinutes: 180,
    storedMinutes: 180,
    review: true,
    error: "Cannot parse: not JSON",
    count: 11,
  });
  // parse_failure_rate > 10 % over at least 5 finished parses in the last hour.
  await insertConversations(tx, user, {
    status: "completed",
    ageMinutes: 30,
    storedMinutes: 29,
    method: "direct",
    count: 4,
  });
  await insertConversations(tx, user, {
    status: "parse_failed",
    ageMinutes: 30,
    storedMinutes: 29,
    review: true,
    error: "Cannot validate: turns missing",
    count: 2,
  });
  // raw_storage_growth > 1024 MB in 24 hours.
  await insertConversations(tx, user, {
    status: "completed",
    ageMinutes: 60,
    storedMinutes: 59,
    method: "direct",
    sizeBytes: 1100 * 1024 * 1024,
  });
  // claude_failure_rate > 10 %.
  const failed = await insertConversations(tx, user, {
    status: "generation_failed",
    ageMinutes: 20,
    error: "overloaded_error",
    count: 5,
  });
  // answers_lost: one of them was closed as a loss at the worker boundary.
  await tx`update public.conversations set generation_error_code = 'worker_lost'
            where conversation_id = ${failed[0]}::uuid`;
  // stuck_* (> 10 minutes) and a spooled raw.
  await insertConversations(tx, user, { status: "generating", ageMinutes: 15 });
  await insertConversations(tx, user, { status: "raw_stored", ageMinutes: 25, storedMinutes: 20 });
  await insertConversations(tx, user, { status: "parsing", ageMinutes: 25, storedMinutes: 20 });
  const [spooled] = await insertConversations(tx, user, { status: "raw_spooled", ageMinutes: 15 });
  await spool(tx, user, spooled, 15);
  // raw_orphans: every row above with a raw path has no object in storage.objects (rows without objects).
  // Another account uploads 12 objects of garbage that all go to review: upload_review_queue_per_user (> 10)
  // and failures_by_user (12 of the window's 19 failures) name it; the queue and parse rules above ignore them.
  await uploadedReviewItems(tx, await createUser(tx), 12);
  // The batch rules (issue 20): a batch 2 h past expires_at, one ended an hour ago and not collected, one
  // collected with a missing result.
  await tx`
    insert into public.generation_batches (user_id, request_count, model, request_hash, state, expires_at,
      ended_at, collected_at, missing_count)
    values (${user}, 1, 'm', repeat('a', 64), 'in_progress', now() - interval '2 hours', null, null, 0),
           (${user}, 1, 'm', repeat('a', 64), 'ended', now() + interval '1 day', now() - interval '1 hour', null, 0),
           (${user}, 1, 'm', repeat('a', 64), 'collected', now() + interval '1 day', now(), now(), 1)`;
}

Deno.test("monitor cycle: every rule fires on fixtures, then resolves with a notice once they are fixed", async () => {
  const restore = quietLogs();
  const hook = startTestWebhook();
  try {
    await withEmptyPipeline(async (tx) => {
      const t0 = Date.now();
      const deps: MonitorDeps = { store: postgresMonitorStore(tx), sink: webhookAlertSink(hook.url) };
      const user = await createUser(tx);

      const healthy = await runMonitor({ ...deps, clock: fixedClock(new Date(t0)) }, { dryRun: false });
      assert.equal(healthy.status, "ok");
      assert.deepEqual(healthy.rules.filter((r) => r.state !== "ok"), []);

      await breakEverything(tx, user);
      const fired = await runMonitor({ ...deps, clock: fixedClock(new Date(t0 + MINUTE)) }, {
        dryRun: false,
      });
      assert.deepEqual(fired.firing, [...RULE_KEYS], "every rule fires");
      assert.deepEqual(fired.alerts.opened, [...RULE_KEYS]);
      assert.equal(fired.notifications.delivered, RULE_KEYS.length);
      assert.equal(hook.received.length, RULE_KEYS.length);
      const byRule = Object.fromEntries(fired.rules.map((r) => [r.rule, r]));
      assert.equal(byRule.manual_review_queue.value, 13);
      assert.equal(byRule.parse_failure_rate.value, 33.33, "2 failed of 6 finished in the last hour");
      assert.ok((byRule.raw_storage_growth.value ?? 0) > 1024);
      assert.equal(
        byRule.claude_failure_rate.value,
        35.71,
        "5 generation_failed of the 14 rows past generating",
      );
      assert.equal(byRule.stuck_raw_spooled.value, 1);
      assert.equal(byRule.upload_review_queue_per_user.value, 12);
      assert.equal(byRule.failures_by_user.value, 63.16, "12 of the 19 failures in the window");
      assert.match(
        hook.received.map((m) => m.text).join("\n"),
        /One user's uploads in review is 12 \(threshold 10\)[\s\S]*user_id/,
      );
      assert.match(
        hook.received.map((m) => m.text).join("\n"),
        /FIRING: Manual review queue is 13 \(threshold 10\)/,
      );

      // The incident rows carry what the checklist's alert needs.
      const rows = await tx`
        select rule, fired_at, resolved_at, value::float8 as value, threshold::float8 as threshold, delivered_at,
               delivery_error, delivery_attempts from public.alerts order by id`;
      assert.equal(rows.length, RULE_KEYS.length);
      assert.ok(
        rows.every((r) => r.delivered_at !== null && r.delivery_error === null && r.delivery_attempts === 1),
      );
      assert.deepEqual(
        rows.find((r) => r.rule === "manual_review_queue"),
        {
          ...rows.find((r) => r.rule === "manual_review_queue"),
          value: 13,
          threshold: 10,
          resolved_at: null,
        },
      );

      // Fixed: the rows go away. First clear run: clearing (hysteresis); the next one resolves with a notice.
      await tx`delete from public.conversations`;
      await tx`delete from public.generation_batches`;
      await tx`delete from storage.objects where bucket_id = 'conversation-files'`;
      const clearing = await runMonitor({ ...deps, clock: fixedClock(new Date(t0 + 6 * MINUTE)) }, {
        dryRun: false,
      });
      assert.deepEqual(clearing.firing, [...RULE_KEYS], "still open while clearing");
      assert.deepEqual(clearing.alerts.resolved, []);
      assert.equal(hook.received.length, RULE_KEYS.length, "no message while clearing");
      const resolved = await runMonitor({ ...deps, clock: fixedClock(new Date(t0 + 11 * MINUTE)) }, {
        dryRun: false,
      });
      assert.equal(resolved.status, "ok");
      assert.deepEqual(resolved.alerts.resolved, [...RULE_KEYS]);
      assert.equal(hook.received.length, 2 * RULE_KEYS.length);
      assert.ok(hook.received.slice(RULE_KEYS.length).every((m) => m.text.startsWith("✅ RESOLVED: ")));
      const [open] = await tx`select count(*)::int as n from public.alerts where resolved_at is null`;
      assert.equal(open.n, 0);
      const [done] = await tx`select count(*)::int as n from public.alerts where notices_delivered = 2`;
      assert.equal(done.n, RULE_KEYS.length, "each incident: one fired and one resolved notice");
    });
  } finally {
    await hook.close();
    restore();
  }
});

Deno.test("monitor cycle: the cooldown — no repeat while firing, one 'worse' notice after the cooldown", async () => {
  const restore = quietLogs();
  const hook = startTestWebhook();
  try {
    await withEmptyPipeline(async (tx) => {
      const t0 = Date.now();
      const deps: MonitorDeps = { store: postgresMonitorStore(tx), sink: webhookAlertSink(hook.url) };
      const user = await createUser(tx);
      const run = (min: number) =>
        runMonitor({ ...deps, clock: fixedClock(new Date(t0 + min * MINUTE)) }, { dryRun: false });

      await insertConversations(tx, user, { status: "generating", ageMinutes: 30, count: 2 });
      await run(0);
      await run(5);
      await run(10);
      assert.equal(hook.received.length, 1, "fired once, then quiet while the value holds");

      await insertConversations(tx, user, { status: "generating", ageMinutes: 30, count: 2 });
      await run(15);
      assert.equal(hook.received.length, 1, "4 is ≥ 1.5 × 2, but the 30-minute cooldown has not passed");
      const worse = await run(31);
      assert.deepEqual(worse.alerts.escalated, ["stuck_generating"]);
      assert.equal(hook.received.length, 2);
      assert.match(hook.received[1].text, /^🔺 WORSE: Stuck in generating is 4 \(threshold 0\)/);
      await run(36);
      assert.equal(hook.received.length, 2, "and quiet again");
      const [row] = await tx`select count(*)::int as n, max(peak_value)::int as peak from public.alerts`;
      assert.deepEqual({ ...row }, { n: 1, peak: 4 }, "one incident row throughout");
    });
  } finally {
    await hook.close();
    restore();
  }
});

Deno.test("monitor cycle: a webhook that is down never breaks the run; delivery is retried next run", async () => {
  const restore = quietLogs();
  const hook = startTestWebhook();
  try {
    await withEmptyPipeline(async (tx) => {
      const t0 = Date.now();
      const deps: MonitorDeps = {
        store: postgresMonitorStore(tx),
        sink: webhookAlertSink(hook.url, { timeoutMs: 500 }),
      };
      const user = await createUser(tx);
      await insertConversations(tx, user, { status: "parsing", ageMinutes: 40, storedMinutes: 40 });
      // One rule at a time: this fixture row has no raw object, which raw_orphans would also report.
      await tx`update public.alert_thresholds set enabled = false where rule = 'raw_orphans'`;

      hook.mode = "error";
      const down = await runMonitor({ ...deps, clock: fixedClock(new Date(t0)) }, { dryRun: false });
      assert.equal(down.status, "firing", "the run still answers its summary");
      assert.equal(down.notifications.failed, 1);
      assert.equal(down.notifications.pending, 1);
      let [row] = await tx`select delivered_at, delivery_error, delivery_attempts from public.alerts`;
      assert.deepEqual({ ...row }, {
        delivered_at: null,
        delivery_error: "Cannot deliver the alert: the webhook answered 500 (internal_error)",
        delivery_attempts: 1,
      });

      hook.mode = "hang";
      const slow = await runMonitor({ ...deps, clock: fixedClock(new Date(t0 + 5 * MINUTE)) }, {
        dryRun: false,
      });
      assert.equal(slow.notifications.failed, 1, "a webhook that never answers is cut off by the timeout");

      hook.mode = "ok";
      const back = await runMonitor({ ...deps, clock: fixedClock(new Date(t0 + 10 * MINUTE)) }, {
        dryRun: false,
      });
      assert.equal(back.notifications.delivered, 1);
      assert.equal(back.notifications.pending, 0);
      [row] =
        await tx`select delivered_at is not null as delivered, delivery_error, delivery_attempts from public.alerts`;
      assert.deepEqual({ ...row }, { delivered: true, delivery_error: null, delivery_attempts: 3 });
      assert.equal(hook.received.length, 1);
      assert.match(hook.received[0].text, /FIRING: Stuck in parsing is 1 .*delivered late \(attempt 3/);
    });
  } finally {
    await hook.close();
    restore();
  }
});

Deno.test("monitor cycle: without ALERT_WEBHOOK_URL alerts are recorded, undelivered, with the reason", async () => {
  const restore = quietLogs();
  try {
    await withEmptyPipeline(async (tx) => {
      const user = await createUser(tx);
      await insertConversations(tx, user, {
        status: "parse_failed",
        ageMinutes: 90,
        storedMinutes: 90,
        review: true,
        count: 12,
      });
      const s = await runMonitor({ store: postgresMonitorStore(tx), sink: noAlertSink() }, { dryRun: false });
      assert.equal(s.notifications.webhook, "not_configured");
      const rows = await tx`
        select rule, delivered_at, delivery_error, delivery_attempts from public.alerts order by rule`;
      assert.deepEqual(rows.map((r) => r.rule), ["manual_review_queue", "raw_orphans"]);
      assert.ok(
        rows.every((r) =>
          r.delivered_at === null && r.delivery_error === WEBHOOK_NOT_CONFIGURED && r.delivery_attempts === 0
        ),
      );
    });
  } finally {
    restore();
  }
});

Deno.test("monitor cycle: a dry run reports what would fire and writes nothing", async () => {
  const restore = quietLogs();
  try {
    await withEmptyPipeline(async (tx) => {
      const user = await createUser(tx);
      await insertConversations(tx, user, { status: "raw_stored", ageMinutes: 30, storedMinutes: 30 });
      const s = await runMonitor({ store: postgresMonitorStore(tx), sink: noAlertSink() }, { dryRun: true });
      assert.ok(s.firing.includes("stuck_raw_stored"));
      assert.ok(s.alerts.opened.includes("stuck_raw_stored"));
      const [row] = await tx`select count(*)::int as n from public.alerts`;
      assert.equal(row.n, 0);
      assert.equal(s.health.total_conversations, 1, "the summary carries raw_storage_health");
      assert.equal(s.pipeline.status_counts.raw_stored, 1);
      assert.equal(s.hourly.length, 1);
    });
  } finally {
    restore();
  }
});
