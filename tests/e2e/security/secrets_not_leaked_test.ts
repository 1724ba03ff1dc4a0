/**
 * The service key never leaves the server side (DESIGN §8): not in an answer, not in a log line. Searched for:
 * the service_role JWT and its signature alone (a truncated or re-encoded token still leaks it), the project's
 * JWT secret, and the sb_secret_ key.
 *
 * This test first drives the paths that log the most — a full generate → Storage → trigger → pg_net → parse run,
 * refusals on every function, the internal functions' dry runs — then reads every line the gateway ever wrote
 * for this state folder (<stateDir>/gateway.log and its rotated .1: the gateway's own events and every
 * function's stdout and stderr, from this run and earlier ones: the fuzz suite, the integration tests), the
 * bodies and headers pg_net recorded from function calls (net._http_response), and the gateway's
 * /_internal/health answer.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { syncSecrets } from "../../../local/sync_secrets.ts";
import { stateDir } from "../../../local/paths.ts";
import { serviceKey, sql, stackEnv, stackTest } from "../../support/stack.ts";
import { bearer, createActors, Recorder, secrets, serviceHeaders } from "./_actors.ts";

const SEED_BODY = {
  persona_id: "10000000-0000-4000-8000-000000000002",
  emotional_arc_id: "20000000-0000-4000-8000-000000000001",
  training_topic_id: "30000000-0000-4000-8000-000000000001",
  tier: "template",
};

function post(headers: Record<string, string>, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

/** Which secret (by name, never its value) a text contains. */
function secretIn(text: string): string | null {
  const names = [
    "the service_role key",
    "the service_role key's signature",
    "the JWT secret",
    "the sb_secret_ key",
  ];
  const values = secrets();
  for (let i = 0; i < values.length; i++) if (text.includes(values[i])) return names[i];
  return null;
}

async function drive(rec: Recorder): Promise<string> {
  const env = stackEnv();
  // The storage trigger needs the Vault secrets to wake the parse function (a fresh database has none).
  await syncSecrets(env.SUPABASE_DB_URL, env.SUPABASE_URL, serviceKey());
  const { a } = await createActors();
  const created = await rec.fn("generate", "generate-conversation", "", post(bearer(a.token), SEED_BODY));
  assert.equal(created.status, 201, created.text);
  const id = (JSON.parse(created.text) as { conversation_id: string }).conversation_id;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const [row] = await sql()<{ s: string }[]>`
      select processing_status as s from public.conversations where conversation_id = ${id}`;
    if (row && ["completed", "parse_failed"].includes(row.s)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Refusals and error paths of every function, each of which may log.
  await rec.fn("generate, bad body", "generate-conversation", "", post(bearer(a.token), { persona_id: 1 }));
  await rec.fn(
    "generate, forged x-user-id",
    "generate-conversation",
    "",
    post({ ...bearer(a.token), "x-user-id": a.id }, SEED_BODY),
  );
  await rec.fn(
    "generate, service without x-user-id",
    "generate-conversation",
    "",
    post(serviceHeaders(), SEED_BODY),
  );
  await rec.fn(
    "parse, unknown id",
    "parse-conversation",
    "",
    post(serviceHeaders(), { conversation_id: crypto.randomUUID() }),
  );
  await rec.fn(
    "parse, this id again",
    "parse-conversation",
    "",
    post(serviceHeaders(), { conversation_id: id }),
  );
  await rec.fn("parse, user token", "parse-conversation", "", post(bearer(a.token), { conversation_id: id }));
  await rec.fn("review, list", "review-queue", "", { headers: bearer(a.token) });
  await rec.fn("review, detail", "review-queue", `/${id}`, { headers: bearer(a.token) });
  await rec.fn("review, service detail", "review-queue", `/${id}`, { headers: serviceHeaders() });
  await rec.fn(
    "review, retry-all dry run",
    "review-queue",
    "/retry-all",
    post(serviceHeaders(), { dry_run: true, limit: 1 }),
  );
  await rec.fn("monitor, dry run", "storage-health-monitor", "", post(serviceHeaders(), { dry_run: true }));
  await rec.fn("monitor, wrong key", "storage-health-monitor", "", post(bearer(a.token), {}));
  await rec.fn("retention, dry run", "raw-retention", "", post(serviceHeaders(), { dry_run: true }));
  await rec.fetch("gateway health", `${env.SUPABASE_URL}/_internal/health`);
  return id;
}

stackTest(
  "secrets: the service key, the JWT secret and the sb_secret_ key appear in no answer and no log line",
  async () => {
    const rec = new Recorder();
    await drive(rec);
    assert.deepEqual(rec.leaks(), [], "answers");

    // Every line the gateway and the functions wrote (the functions flush within milliseconds; give them a beat).
    await new Promise((r) => setTimeout(r, 300));
    const offenders: string[] = [];
    let lines = 0;
    for (const file of ["gateway.log.1", "gateway.log"].map((f) => join(stateDir(), f))) {
      if (!existsSync(file)) continue;
      Deno.readTextFileSync(file).split("\n").forEach((line, i) => {
        lines++;
        const found = secretIn(line);
        if (found) {
          const event = /"event":"([^"]+)"/.exec(line)?.[1] ?? "?";
          offenders.push(`${file}:${i + 1} (event ${event}) contains ${found}`);
        }
      });
    }
    assert.ok(lines > 0, "the gateway log exists and has lines");
    assert.deepEqual(offenders, [], "log lines");

    // What the functions answered to pg_net (the trigger's and the sweeper's wake-ups, cron's monitor calls).
    const responses = await sql()<{ id: string; text: string }[]>`
    select id::text, coalesce(content, '') || ' ' || coalesce(headers::text, '') || ' ' || coalesce(error_msg, '') as text
      from net._http_response`;
    const leaked = responses.filter((r) => secretIn(r.text) !== null).map((r) =>
      `net._http_response ${r.id}`
    );
    assert.deepEqual(leaked, [], "responses recorded by pg_net");
  },
);
