/**
 * `deno task cron:run <jobname>`: runs a pg_cron job's command now, as the job's owner would (pg_cron 1.4 on
 * this machine ticks once a minute and has no `cron.run`). The command runs in the job's database with
 * `set role` to the job's `username`, in one transaction, like a scheduled run; pg_net calls it queues are
 * sent after it commits. The run is not recorded in cron.job_run_details (a scheduled run is).
 */
import postgres from "postgres";
import { databaseUrl } from "./paths.ts";
import { usageOf, wantsHelp } from "./parse_cli.ts";

export interface CronRunResult {
  jobname: string;
  command: string;
  username: string;
  rows: number;
}

export async function runCronJob(jobname: string, dbUrl: string = databaseUrl()): Promise<CronRunResult> {
  const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  try {
    const [job] = await sql<{ command: string; username: string; database: string }[]>`
      select command, username, database from cron.job where jobname = ${jobname}`;
    if (!job) {
      const names = await sql<{ jobname: string }[]>`select jobname from cron.job order by jobname`;
      throw new Error(
        `Cannot run cron job "${jobname}": no such job (scheduled: ${
          names.map((n) => n.jobname).join(", ") || "none"
        })`,
      );
    }
    const [{ db }] = await sql<{ db: string }[]>`select current_database() as db`;
    if (job.database !== db) {
      throw new Error(`Cannot run cron job "${jobname}": it runs in database "${job.database}", not "${db}"`);
    }
    const rows = await sql.begin(async (tx) => {
      await tx`select set_config('role', ${job.username}, true)`;
      const result = await tx.unsafe(job.command);
      return result.count ?? result.length;
    });
    return { jobname, command: job.command, username: job.username, rows: Number(rows ?? 0) };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

if (import.meta.main) {
  const jobname = Deno.args[0];
  if (wantsHelp(Deno.args)) {
    console.log(usageOf(import.meta.url));
    Deno.exit(0);
  }
  if (!jobname || jobname.startsWith("-") || Deno.args.length > 1) {
    console.error(
      jobname?.startsWith("-")
        ? `cron:run: unknown option '${jobname}' (see --help)`
        : "cron:run: give one job name, e.g. deno task cron:run sweep-conversations (see --help)",
    );
    Deno.exit(2);
  }
  try {
    const r = await runCronJob(jobname);
    console.log(`Ran cron job "${r.jobname}" as ${r.username}: ${r.command.trim().split("\n")[0]}`);
  } catch (err) {
    console.error(`[cron:run] ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
