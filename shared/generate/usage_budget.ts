/**
 * Per-user budgets around one generation: reserve before the flow, settle after it. The limits and their
 * atomic accounting live in PostgreSQL (`private.reserve_generation`, migration
 * 20251204000000_create_usage_limits.sql); this module is the seam the handler calls and the 429 it raises.
 *
 *   reserve   one request unit (generate_requests_per_minute) and max_tokens output tokens
 *             (generate_output_tokens_per_day), both or neither — before any row is written or Claude is called
 *   settle    gives back max_tokens − the output tokens Claude really used (all of it when no answer came back,
 *             on a replay, or when the flow threw)
 *
 * A refusal is 429 `rate_limited` with `Retry-After` and the limit, its size and its reset in the body. An
 * idempotent retry of a request that already has its conversation is never refused: it costs nothing and only
 * replays (docs/SECURITY.md, "Budgets and rate limits").
 *
 * called by: shared/generate/handler.ts; adapter: shared/adapters/postgres_usage_limiter.ts
 */
import type { ClaudeClient, ClaudeResult } from "./claude_client.ts";
import { type AppError, appError } from "../errors.ts";
import { logger } from "../log.ts";

export const GENERATE_LIMITS = ["generate_requests_per_minute", "generate_output_tokens_per_day"] as const;
export type GenerateLimit = typeof GENERATE_LIMITS[number];

export type Reservation =
  | {
    allowed: true;
    /** Whether output tokens were reserved (false when the caller is exempt or the budget unlimited). */
    tokensCharged: boolean;
    /** The UTC day the tokens were reserved in: settling only ever touches that window. */
    tokensWindowStart: Date | null;
  }
  | { allowed: false; limit: GenerateLimit; maxAmount: number; used: number; resetAt: Date };

export interface UsageLimiter {
  reserveGeneration(input: { userId: string; maxTokens: number; isService: boolean }): Promise<Reservation>;
  /** Gives `amount` output tokens back to the window they were reserved in. */
  releaseTokens(input: { userId: string; windowStart: Date; amount: number }): Promise<void>;
}

/** The 429 for a refused reservation: the limit by name, its size, what was asked, and when it resets. */
export function rateLimitedError(refusal: Extract<Reservation, { allowed: false }>, now: Date): AppError {
  const retryAfter = Math.max(1, Math.ceil((refusal.resetAt.getTime() - now.getTime()) / 1000));
  const what = refusal.limit === "generate_requests_per_minute"
    ? `${refusal.maxAmount} requests per minute`
    : `${refusal.maxAmount} output tokens per day (max_tokens is reserved until Claude answers)`;
  return appError(
    "rate_limited",
    `Cannot generate: the ${refusal.limit} limit is reached (${what}); it resets at ${refusal.resetAt.toISOString()}`,
    {
      limit: refusal.limit,
      max: refusal.maxAmount,
      requested_total: refusal.used,
      reset_at: refusal.resetAt.toISOString(),
      retry_after_seconds: retryAfter,
    },
  );
}

/**
 * Wraps a Claude client to remember the output tokens of the one call a generation makes (the real spend,
 * as the API reports it), so that the handler can settle without reaching into the flow.
 */
export function meteredClaude(inner: ClaudeClient): { client: ClaudeClient; outputTokens: () => number } {
  let output = 0;
  return {
    client: {
      async generate(request) {
        const result: ClaudeResult = await inner.generate(request);
        // A cut stream may carry no usage: then the whole max_tokens counts as spent (never under-count).
        if (result.ok) output += result.answer.usage.output_tokens ?? request.maxTokens;
        return result;
      },
    },
    outputTokens: () => output,
  };
}

/** Settles a reservation of `reserved` tokens to `used`; a failure is logged, never raised (the answer stands). */
export async function settleTokens(
  limiter: UsageLimiter,
  reservation: Extract<Reservation, { allowed: true }>,
  input: { userId: string; reserved: number; used: number },
): Promise<void> {
  if (!reservation.tokensCharged || reservation.tokensWindowStart === null) return;
  const amount = Math.max(0, input.reserved - input.used);
  if (amount === 0) return;
  try {
    await limiter.releaseTokens({ userId: input.userId, windowStart: reservation.tokensWindowStart, amount });
  } catch (err) {
    // The reservation then stays charged until the day ends: the user is limited early, never overspent.
    logger.warn("usage_settle_failed", {
      user_id: input.userId,
      amount,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
