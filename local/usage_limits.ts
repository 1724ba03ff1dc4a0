/**
 * Lifts the per-user generate limits for one account, the way an operator would (a row of the user's own in
 * private.usage_limits with max_amount null = unlimited; docs/SECURITY.md, "Budgets and rate limits"). Used by
 * the local demo (its batch may pass 60 requests a minute) and the load benchmarks (their users send hundreds
 * a minute on purpose). Upload limits are left as they are.
 */
import type postgres from "postgres";

export const GENERATE_LIMIT_NAMES = [
  "generate_requests_per_minute",
  "generate_output_tokens_per_day",
] as const;

export async function liftGenerateLimits(sql: postgres.Sql, userId: string): Promise<void> {
  for (const limit of GENERATE_LIMIT_NAMES) {
    await sql`
      insert into private.usage_limits (limit_name, user_id, max_amount, description)
      values (${limit}, ${userId}::uuid, null, 'lifted for a local demo or benchmark account')
      on conflict on constraint usage_limits_one_row_per_user do update set max_amount = null`;
  }
}
