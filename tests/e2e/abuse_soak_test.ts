/**
 * Soak test of abuse (docs/SECURITY.md, "Budgets and rate limits"): for about 12 s one account hammers
 * generate-conversation (max_tokens 8000, six loops at once) and uploads garbage to raw/ (three loops) while
 * another account generates normally, one request at a time, about one a second. Everything goes through the gateway with real
 * tokens, the real function, the stand-in, Storage and the storage trigger.
 *
 * The abuser's limits are set the way an operator would, per user in private.usage_limits (10 requests a
 * minute, 40,000 output tokens a day, 40 uploads an hour), so the test is short; the normal user keeps the
 * defaults. Required: every one of the normal user's requests succeeds; the abuser gets 429s from
 * generate-conversation and refusals from Storage; the abuser's spend, counted from the stand-in's own usage
 * report, stays within its token budget and its granted calls within its request limit; and the monitor
 * (storage-health-monitor, dry run) names the abuser in its per-account rules.
 *
 * `SOAK_SECONDS` makes it longer (default 12). The soak is measured against the limits, not the clock: each
 * hammering loop runs for at least `SOAK_SECONDS` and then until its limit has answered (a 429, a refused
 * upload), so a slow, loaded machine gets a longer soak instead of a failed one (capped at `SOAK_SECONDS` + 120 s).
 */
import assert from "node:assert/strict";
import {
  createTestUser,
  eventually,
  functionsUrl,
  serviceKey,
  sql,
  stackTest,
  standinAdmin,
  userClient,
} from "../support/stack.ts";
import { ensurePipelineSecrets, SEED_BODY } from "../integration/generate/_helpers.ts";

const SECONDS = Number(Deno.env.get("SOAK_SECONDS") ?? "12");
const ABUSER_LIMITS = {
  generate_requests_per_minute: 10,
  generate_output_tokens_per_day: 40_000,
  raw_uploads_per_hour: 40,
} as const;

function generate(token: string, maxTokens?: number): Promise<Response> {
  return fetch(functionsUrl("generate-conversation"), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      prefer: "respond-async",
    },
    body: JSON.stringify(maxTokens === undefined ? SEED_BODY : { ...SEED_BODY, max_tokens: maxTokens }),
  });
}

interface Tally {
  [status: string]: number;
}

function count(t: Tally, key: string | number): void {
  t[String(key)] = (t[String(key)] ?? 0) + 1;
}

stackTest(
  `soak: one account hammers generate and uploads for ${SECONDS} s, another generates normally`,
  async () => {
    await ensurePipelineSecrets();
    const abuser = await createTestUser();
    const normal = await createTestUser();
    for (const [limit, max] of Object.entries(ABUSER_LIMITS)) {
      await sql()`insert into private.usage_limits (limit_name, user_id, max_amount) values (${limit}, ${abuser.id}, ${max})`;
    }
    const minuteAtStart = Math.floor(Date.now() / 60_000);
    const until = Date.now() + SECONDS * 1000;
    const hardStop = until + 120_000;
    const limitSeen = { generate: false, uploads: false };
    const keepGoing = (seen: boolean) => Date.now() < hardStop && (Date.now() < until || !seen);
    let hammering = true;
    const generated: Tally = {};
    const uploads: Tally = {};
    const normalStatuses: number[] = [];
    const storage = userClient(abuser.token).storage.from("conversation-files");

    const hammerGenerate = async () => {
      while (keepGoing(limitSeen.generate)) {
        const res = await generate(abuser.token, 8000);
        count(generated, res.status);
        if (res.status === 429) {
          limitSeen.generate = true;
          assert.ok(Number(res.headers.get("retry-after")) >= 1);
        }
        await res.body?.cancel();
      }
    };
    const hammerUploads = async () => {
      while (keepGoing(limitSeen.uploads)) {
        const { error } = await storage.upload(
          `raw/${abuser.id}/${crypto.randomUUID()}.json`,
          new TextEncoder().encode('{"spam":true}'),
          { contentType: "application/json" },
        );
        count(uploads, error ? `refused ${(error as { statusCode?: string }).statusCode}` : "ok");
        if (error) limitSeen.uploads = true;
        // Refused uploads cost the abuser nothing but a round trip; do not spin the CPU faster than that.
        if (error) await new Promise((r) => setTimeout(r, 20));
      }
    };
    const generateNormally = async () => {
      while (hammering) {
        const res = await generate(normal.token);
        normalStatuses.push(res.status);
        await res.body?.cancel();
        // A busy person's pace, under the default 60 requests a minute however long the soak runs: on an idle
        // machine an unpaced loop makes more than 60 requests in 12 s and is (rightly) limited itself.
        await new Promise((r) => setTimeout(r, 1_100));
      }
    };
    const abuse = Promise.all([
      ...Array.from({ length: 6 }, hammerGenerate),
      ...Array.from({ length: 3 }, hammerUploads),
    ]).finally(() => {
      hammering = false;
    });
    await Promise.all([abuse, generateNormally()]);
    const minutesSpanned = Math.floor(Date.now() / 60_000) - minuteAtStart + 1;
    console.log(
      `abuser generate: ${JSON.stringify(generated)}; uploads: ${JSON.stringify(uploads)}; ` +
        `normal: ${normalStatuses.length} requests`,
    );

    // The normal user: every request succeeded.
    assert.ok(normalStatuses.length >= 3, `the normal user made ${normalStatuses.length} requests`);
    assert.deepEqual(normalStatuses.filter((s) => s !== 201), [], "every normal request succeeded");

    // The abuser: 429s, and nothing but 201 and 429.
    assert.ok((generated["429"] ?? 0) > 0, "the abuser got 429s");
    assert.deepEqual(Object.keys(generated).sort(), ["201", "429"]);
    assert.ok((generated["201"] ?? 0) <= ABUSER_LIMITS.generate_requests_per_minute * minutesSpanned);
    assert.equal(uploads.ok, ABUSER_LIMITS.raw_uploads_per_hour, "uploads stop at the hourly limit");
    assert.ok((uploads["refused 403"] ?? 0) > 0, "and the rest are refused");

    // Spend, as Claude (the stand-in) counted it: within the budget, one call per granted request.
    const usage = await standinAdmin("usage") as Record<string, { requests: number; output_tokens: number }>;
    assert.equal(usage[abuser.id].requests, generated["201"]);
    assert.ok(
      usage[abuser.id].output_tokens <= ABUSER_LIMITS.generate_output_tokens_per_day,
      `the abuser spent ${usage[abuser.id].output_tokens} output tokens`,
    );
    assert.equal(usage[normal.id].requests, normalStatuses.length);

    // The monitor names the abuser: its uploads fill its own review queue, and it holds the most failures.
    await eventually(async () => {
      const [row] = await sql()<{ n: number }[]>`
      select count(*)::int as n from public.conversations
       where user_id = ${abuser.id} and source = 'uploaded' and requires_manual_review`;
      return row.n === ABUSER_LIMITS.raw_uploads_per_hour ? true : null;
    }, { timeoutMs: 30_000, what: "the abuser's uploads parsed into review" });
    const res = await fetch(functionsUrl("storage-health-monitor"), {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey()}`, "content-type": "application/json" },
      body: JSON.stringify({ dry_run: true }),
    });
    assert.equal(res.status, 200);
    const summary = await res.json() as {
      rules: { rule: string; breached: boolean; details: Record<string, unknown> }[];
    };
    const rule = (key: string) => summary.rules.find((r) => r.rule === key)!;
    assert.equal(rule("upload_review_queue_per_user").details.user_id, abuser.id);
    assert.equal(rule("upload_review_queue_per_user").breached, true);
    assert.equal(rule("failures_by_user").details.user_id, abuser.id);
    assert.ok(!JSON.stringify(rule("manual_review_queue").details).includes(abuser.id));
  },
);
