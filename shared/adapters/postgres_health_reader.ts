/**
 * HealthReader over postgres.js: the alerts table and the conversations per source and status, for
 * `GET /review-queue/health` (shared/review/health.ts). Rows are read with zod; timestamps leave the database as
 * ISO text, numbers as float8.
 */
import { z } from "zod";
import type { AlertView, HealthReader, SourceCount } from "../review/health.ts";
import { type Sql, translatingPostgresFailures } from "./postgres_sql.ts";

const alertRow = z.object({
  id: z.string(),
  rule: z.string(),
  severity: z.string(),
  fired_at: z.string(),
  resolved_at: z.string().nullable(),
  value: z.number().nullable(),
  peak_value: z.number(),
  threshold: z.number(),
  notice: z.string(),
  delivered_at: z.string().nullable(),
  delivery_error: z.string().nullable(),
});

const sourceRow = z.object({
  source: z.string(),
  status: z.string(),
  count: z.number().int(),
  in_review: z.number().int(),
});

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const ALERT_COLUMNS = `id::text, rule, severity, to_char(fired_at at time zone 'utc', ${ISO}) as fired_at,
  to_char(resolved_at at time zone 'utc', ${ISO}) as resolved_at, value::float8 as value,
  peak_value::float8 as peak_value, threshold::float8 as threshold, notice,
  to_char(delivered_at at time zone 'utc', ${ISO}) as delivered_at, delivery_error`;

/** The reader on `sql` (the review function's pool); database failures are translated like the repo's. */
export function postgresHealthReader(sql: Sql): HealthReader {
  return translatingPostgresFailures({
    async alerts(pastLimit: number): Promise<{ open: AlertView[]; past: AlertView[] }> {
      const [open, past] = await Promise.all([
        sql.unsafe(
          `select ${ALERT_COLUMNS} from public.alerts where resolved_at is null order by fired_at desc`,
        ),
        sql.unsafe(
          `select ${ALERT_COLUMNS} from public.alerts where resolved_at is not null
            order by resolved_at desc limit $1`,
          [pastLimit],
        ),
      ]);
      return { open: z.array(alertRow).parse(open), past: z.array(alertRow).parse(past) };
    },
    async sourceCounts(): Promise<SourceCount[]> {
      const rows = await sql`
        select source, processing_status as status, count(*)::int as count,
               (count(*) filter (where requires_manual_review and processing_status = 'parse_failed'))::int
                 as in_review
          from public.conversations group by source, processing_status order by source, processing_status`;
      return z.array(sourceRow).parse(rows);
    },
  });
}
