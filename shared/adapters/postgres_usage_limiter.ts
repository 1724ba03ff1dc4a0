/**
 * The SQL behind the per-user budgets (migration 20251204000000_create_usage_limits.sql): one call reserves a
 * generation (`private.reserve_generation`, atomic in PostgreSQL), one gives tokens back
 * (`private.release_usage`).
 *
 * used by: shared/generate/handler.ts (through `UsageLimiter`); wired in
 * supabase/functions/generate-conversation/index.ts
 */
import { z } from "zod";
import { type Sql, translatingPostgresFailures } from "./postgres_sql.ts";
import { GENERATE_LIMITS, type Reservation, type UsageLimiter } from "../generate/usage_budget.ts";

const ReservationRow = z.object({
  allowed: z.boolean(),
  refused_limit: z.enum(GENERATE_LIMITS).nullable(),
  max_amount: z.coerce.number().nullable(),
  used: z.coerce.number().nullable(),
  reset_at: z.coerce.date().nullable(),
  tokens_charged: z.boolean(),
  tokens_window_start: z.coerce.date().nullable(),
});

/**
 * The `UsageLimiter` port over PostgreSQL. A lost connection or a timeout reaches the handler as the domain's
 * `InfraFailure("database_unavailable")` (translated here), which it answers with a 503 to retry.
 */
export function postgresUsageLimiter(sql: Sql): UsageLimiter {
  return translatingPostgresFailures({
    async reserveGeneration({ userId, maxTokens, isService }): Promise<Reservation> {
      const rows = await sql`
        select allowed, refused_limit, max_amount, used, reset_at, tokens_charged, tokens_window_start
          from private.reserve_generation(${userId}::uuid, ${maxTokens}, ${isService})`;
      const r = ReservationRow.parse(rows[0]);
      if (r.allowed) {
        return { allowed: true, tokensCharged: r.tokens_charged, tokensWindowStart: r.tokens_window_start };
      }
      if (r.refused_limit === null || r.reset_at === null) {
        throw new Error("Cannot read the reservation: a refusal without its limit");
      }
      return {
        allowed: false,
        limit: r.refused_limit,
        maxAmount: r.max_amount ?? 0,
        used: r.used ?? 0,
        resetAt: r.reset_at,
      };
    },

    async releaseTokens({ userId, windowStart, amount }) {
      await sql`
        select private.release_usage(${userId}::uuid, 'generate_output_tokens_per_day', ${windowStart},
          ${amount})`;
    },
  });
}
