/**
 * `deno task verify`'s second half: the chain that wakes the functions, checked on the target project.
 *
 *   extension pg_net             every wake-up, sweep and monitor call is a pg_net request
 *   extension pg_cron            the sweeper, monitor, retention and abandoned-generation jobs
 *   Vault secrets                project_url and service_role_key, read by private.invoke_edge_function
 *   cron jobs                    each expected job scheduled, active, and its last run succeeded
 *   pg_net round trip            one request per internal function through private.invoke_edge_function (the
 *                                path the trigger and the cron jobs take), each a dry run, answered 2xx
 *   pg_net errors (last hour)    net._http_response rows with an error, a timeout or a status >= 400
 *
 * Each check is one PASS/FAIL line whose FAIL text says what to do. The round trips queue four requests
 * (dry runs: storage-health-monitor, raw-retention and collect-batches with {"dry_run": true}, parse-conversation for an id
 * that does not exist) and read their answers; nothing else is written.
 */
import type postgres from "postgres";
import type { CheckResult } from "./verify.ts";

type Sql = postgres.Sql;

export const PG_NET_MIGRATION = "supabase/migrations/20251205000000_enable_pg_net.sql";

/** The cron jobs the migrations schedule, and the migration that does it. */
export const EXPECTED_JOBS: Readonly<Record<string, string>> = {
  "sweep-conversations": "20251119000400_schedule_conversation_sweeper.sql",
  "reconcile-raw-objects": "20251119000400_schedule_conversation_sweeper.sql",
  "storage-health-monitor": "20251120000400_schedule_monitor_and_retention.sql",
  "raw-retention": "20251120000400_schedule_monitor_and_retention.sql",
  "fail-abandoned-generations": "20251122000000_fail_abandoned_generations.sql",
  "collect-batches": "20251210000000_create_generation_batches.sql",
};

/** The internal functions the database calls, with a body that changes nothing. */
export const ROUND_TRIPS: ReadonlyArray<{ fn: string; body: Record<string, unknown> }> = [
  {
    fn: "parse-conversation",
    body: { conversation_ids: ["00000000-0000-4000-8000-000000000000"], source: "manual" },
  },
  { fn: "storage-health-monitor", body: { dry_run: true } },
  { fn: "raw-retention", body: { dry_run: true } },
  { fn: "collect-batches", body: { dry_run: true } },
];

const SYNC_FIX =
  'deno task secrets:sync --db-url "$DB_URL" --project-url "$SUPABASE_URL" --service-key "$SERVICE_KEY"';

function pass(name: string, message: string): CheckResult {
  return { name, ok: true, message };
}
function fail(name: string, message: string): CheckResult {
  return { name, ok: false, message };
}

async function one<T>(sql: Sql, query: string, params: postgres.ParameterOrJSON<never>[] = []): Promise<T> {
  const rows = await sql.unsafe(query, params);
  return rows[0] as T;
}

async function checkPgNet(sql: Sql): Promise<{ result: CheckResult; usable: boolean }> {
  const name = "extension pg_net";
  const r = await one<{ ext: string | null; post: boolean; responses: boolean; available: boolean }>(
    sql,
    `select (select extversion from pg_extension where extname = 'pg_net') as ext,
            to_regprocedure('net.http_post(text,jsonb,jsonb,jsonb,integer)') is not null as post,
            to_regclass('net._http_response') is not null as responses,
            exists (select 1 from pg_available_extensions where name = 'pg_net') as available`,
  );
  if (r.ext) return { result: pass(name, `installed (${r.ext})`), usable: true };
  if (r.post && r.responses) {
    return {
      result: pass(
        name,
        "schema net answers (net.http_post, net._http_response) without the extension: a stand-in",
      ),
      usable: true,
    };
  }
  const how = r.available
    ? `run: create extension pg_net with schema extensions; (Dashboard → Database → Extensions → pg_net), or ` +
      `supabase db push (${PG_NET_MIGRATION})`
    : "this server does not offer pg_net: use a Supabase project (every plan has it) or install the extension";
  return {
    result: fail(
      name,
      `missing: no wake-up, sweep or monitor call can be sent and no alert can fire. Fix: ${how}`,
    ),
    usable: false,
  };
}

async function checkPgCron(sql: Sql): Promise<{ result: CheckResult; usable: boolean }> {
  const name = "extension pg_cron";
  const r = await one<{ ext: string | null }>(
    sql,
    `select (select extversion from pg_extension where extname = 'pg_cron') as ext`,
  );
  if (r.ext) return { result: pass(name, `installed (${r.ext})`), usable: true };
  return {
    result: fail(
      name,
      "missing: nothing sweeps lost wake-ups, runs the monitor or the retention. Fix: enable pg_cron " +
        "(Dashboard → Database → Extensions), then supabase db push again (the schedule migrations are guarded)",
    ),
    usable: false,
  };
}

async function checkSecrets(sql: Sql): Promise<{ result: CheckResult; usable: boolean }> {
  const name = "Vault secrets project_url, service_role_key";
  const hasVault = await one<{ ok: boolean }>(
    sql,
    `select to_regclass('vault.decrypted_secrets') is not null as ok`,
  );
  if (!hasVault.ok) {
    return {
      result: fail(name, "vault.decrypted_secrets does not exist: enable Supabase Vault"),
      usable: false,
    };
  }
  const rows = await sql.unsafe(
    `select name, decrypted_secret from vault.decrypted_secrets
      where name in ('project_url', 'service_role_key') and coalesce(decrypted_secret, '') <> ''`,
  );
  const have = new Map(rows.map((r) => [String(r.name), String(r.decrypted_secret)]));
  const missing = ["project_url", "service_role_key"].filter((n) => !have.has(n));
  if (missing.length > 0) {
    return {
      result: fail(
        name,
        `${
          missing.join(" and ")
        } not set: uploads are stored but nothing wakes the parser, the sweeper or the ` +
          `monitor. Fix: ${SYNC_FIX}`,
      ),
      usable: false,
    };
  }
  const url = have.get("project_url") ?? "";
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    return {
      result: fail(name, `project_url is not a URL (${JSON.stringify(url.slice(0, 60))}). Fix: ${SYNC_FIX}`),
      usable: false,
    };
  }
  return { result: pass(name, `both set (project_url = ${url})`), usable: true };
}

async function checkCronJobs(sql: Sql): Promise<CheckResult[]> {
  const rows = await sql.unsafe(
    `select j.jobname, j.schedule, j.active, d.status, d.return_message, d.end_time
       from cron.job j
       left join lateral (select status, return_message, end_time from cron.job_run_details r
                           where r.jobid = j.jobid order by r.runid desc limit 1) d on true`,
  );
  const byName = new Map(rows.map((r) => [String(r.jobname), r]));
  return Object.entries(EXPECTED_JOBS).map(([job, migration]) => {
    const name = `cron job ${job}`;
    const r = byName.get(job);
    if (!r) {
      return fail(
        name,
        `not scheduled. Fix: supabase db push (supabase/migrations/${migration} schedules it)`,
      );
    }
    if (!r.active) {
      return fail(
        name,
        `scheduled (${r.schedule}) but inactive. Fix: select cron.alter_job(…, active := true)`,
      );
    }
    if (r.status === null || r.status === undefined) {
      return pass(name, `scheduled (${r.schedule}), no run yet`);
    }
    if (r.status === "succeeded") {
      return pass(
        name,
        `scheduled (${r.schedule}), last run succeeded at ${new Date(r.end_time).toISOString()}`,
      );
    }
    if (r.status === "running" || r.status === "starting") {
      return pass(name, `scheduled (${r.schedule}), running now`);
    }
    return fail(
      name,
      `last run ${r.status}: ${
        String(r.return_message ?? "").slice(0, 200)
      }. Fix: read cron.job_run_details for ` +
        `this job; run its command by hand (select command from cron.job where jobname = '${job}')`,
    );
  });
}

async function roundTrips(sql: Sql, timeoutMs: number): Promise<CheckResult[]> {
  const queued: Array<{ fn: string; id: string | null }> = [];
  for (const t of ROUND_TRIPS) {
    const r = await one<{ id: string | null }>(
      sql,
      `select private.invoke_edge_function($1, ($2::text)::jsonb, $3)::text as id`,
      [t.fn, JSON.stringify(t.body), timeoutMs] as never[],
    );
    queued.push({ fn: t.fn, id: r.id });
  }
  const deadline = Date.now() + timeoutMs + 5_000;
  const answers = new Map<string, Record<string, unknown>>();
  while (Date.now() < deadline) {
    const ids = queued.filter((q) => q.id !== null && !answers.has(q.id)).map((q) => q.id as string);
    if (ids.length === 0) break;
    const rows = await sql.unsafe(
      `select id::text as id, status_code, timed_out, error_msg, left(content, 200) as content
         from net._http_response where id = any($1::bigint[])`,
      [ids] as never[],
    );
    for (const r of rows) answers.set(String(r.id), r);
    await new Promise((res) => setTimeout(res, 200));
  }
  return queued.map(({ fn, id }) => {
    const name = `pg_net round trip ${fn}`;
    if (id === null) {
      return fail(name, `not sent (private.invoke_edge_function returned null). Fix: ${SYNC_FIX}`);
    }
    const a = answers.get(id);
    if (!a) {
      return fail(
        name,
        `no answer within ${
          timeoutMs + 5000
        } ms (request ${id} still queued): pg_net's worker is not running. ` +
          `Fix: select net.worker_restart(); on the local stack, deno task stack:start`,
      );
    }
    const status = a.status_code === null || a.status_code === undefined ? null : Number(a.status_code);
    if (status !== null && status >= 200 && status < 300) return pass(name, `answered ${status}`);
    if (status === 401 || status === 403) {
      return fail(
        name,
        `answered ${status}: the service_role_key in Vault is not this project's. Fix: ${SYNC_FIX}`,
      );
    }
    if (status === 404) {
      return fail(
        name,
        `answered 404: the function is not deployed at project_url. Fix: supabase functions deploy ${fn} ` +
          `(and check project_url in Vault)`,
      );
    }
    const why = status !== null
      ? `answered ${status} ${String(a.content ?? "").replace(/\s+/g, " ")}`
      : `failed: ${a.timed_out ? "timed out" : String(a.error_msg ?? "no status")}`;
    return fail(
      name,
      `${why}. Fix: are the functions up at project_url? Deploy them (supabase functions deploy) and read ` +
        `their logs (Dashboard → Edge Functions → ${fn} → Logs)`,
    );
  });
}

async function checkRecentErrors(sql: Sql, since: Date): Promise<CheckResult> {
  const name = "pg_net errors since " + since.toISOString().slice(0, 16).replace("T", " ");
  const rows = await sql.unsafe(
    `select coalesce(status_code::text, case when timed_out then 'timeout' else 'error' end) as kind,
            left(coalesce(error_msg, content, ''), 120) as sample, count(*)::int as n
       from net._http_response
      where created >= $1::timestamptz
        and (status_code is null or status_code >= 400 or timed_out or error_msg is not null)
      group by 1, 2 order by n desc limit 5`,
    [since.toISOString()] as never[],
  );
  if (rows.length === 0) return pass(name, "none");
  const total = rows.reduce((s, r) => s + Number(r.n), 0);
  const list = rows.map((r) => `${r.n}× ${r.kind} ${String(r.sample).replace(/\s+/g, " ")}`).join("; ");
  return fail(
    name,
    `${total}${rows.length === 5 ? "+" : ""} failed requests: ${list}. Fix: 401/403 → ${SYNC_FIX}; 404 → ` +
      `supabase functions deploy; timeouts/connection errors → the functions' logs`,
  );
}

export interface ChainOptions {
  /** How long pg_net may take per round trip (the request's timeout). */
  timeoutMs?: number;
  /** Start of the window for net._http_response errors (default: one hour ago). */
  errorsSince?: Date;
}

/** The chain checks, in order; later ones are skipped (FAIL, with the reason) when a link they need is missing. */
export async function runChainChecks(sql: Sql, opts: ChainOptions = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const net = await checkPgNet(sql);
  const cron = await checkPgCron(sql);
  const secrets = await checkSecrets(sql);
  out.push(net.result, cron.result, secrets.result);
  if (cron.usable) out.push(...await checkCronJobs(sql));
  const invoker = await one<{ ok: boolean }>(
    sql,
    `select to_regprocedure('private.invoke_edge_function(text,jsonb,integer)') is not null as ok`,
  );
  if (!invoker.ok) {
    out.push(fail("pg_net round trips", "private.invoke_edge_function is missing. Fix: supabase db push"));
  } else if (!net.usable || !secrets.usable) {
    out.push(
      fail(
        "pg_net round trips",
        `not tried: ${!net.usable ? "pg_net is missing" : "the Vault secrets are not set"} (see above)`,
      ),
    );
  } else {
    out.push(...await roundTrips(sql, opts.timeoutMs ?? 10_000));
  }
  if (net.usable) {
    out.push(await checkRecentErrors(sql, opts.errorsSince ?? new Date(Date.now() - 3_600_000)));
  }
  return out;
}
