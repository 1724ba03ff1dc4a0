/**
 * HTTP for generate-conversation: POST only; auth (user JWT, or the service key with x-user-id); the
 * Idempotency-Key header; a bounded, strict JSON body; then one call into the generate flow and the mapping of
 * its outcome. Every answer carries `Server-Timing` (claude, raw_store, db, parse_wait, total).
 *
 * Status codes: 201 created · 200 idempotent replay (`Idempotent-Replayed: true`) · 400 invalid body or
 * headers · 401 no or bad token · 403 x-user-id with a user token · 404 unknown user or scaffolding · 405 ·
 * 409 key reused with another body · 413 body over 16 KiB · 415 not JSON · 429 a per-user limit is reached
 * (Retry-After; nothing written, Claude not called) · 502/503 Claude failed after retries
 * (with conversation_id; Retry-After when known) · 503 database down before Claude, or Storage and database
 * both down after Claude (with conversation_id).
 *
 * wired in: supabase/functions/generate-conversation/index.ts; next: shared/generate/generate.ts
 */
import { resolveCaller } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { errorResponse, json } from "../http/respond.ts";
import type { Handler, RequestContext } from "../http/serve.ts";
import { appError } from "../errors.ts";
import { isUnavailable } from "../pipeline/failures.ts";
import { generateConversation, type GenerateDeps, type GenerateOutcome } from "./generate.ts";
import {
  GenerateRequestSchema,
  MAX_BODY_BYTES,
  readIdempotencyKey,
  requestHash,
  resolveActingUser,
} from "./request.ts";
import type { PhaseTimer } from "../http/server_timing.ts";
import {
  meteredClaude,
  rateLimitedError,
  type Reservation,
  settleTokens,
  type UsageLimiter,
} from "./usage_budget.ts";

export interface GenerateHandlerDeps extends GenerateDeps {
  /** Keys accepted as the service role (legacy JWT and sb_secret_ keys). */
  serviceKeys: readonly string[];
  /** Per-user budgets (shared/generate/usage_budget.ts): reserved before the flow, settled after it. */
  limits: UsageLimiter;
}

type Granted = Extract<Reservation, { allowed: true }>;

/**
 * Reserves the request's budget, or throws the 429. A refused request that carries the Idempotency-Key of a
 * conversation that already exists goes on unreserved: the flow only replays it (no row, no Claude call).
 */
async function reserve(
  deps: GenerateHandlerDeps,
  timer: PhaseTimer,
  input: { userId: string; maxTokens: number; isService: boolean; idempotencyKey: string | null },
): Promise<Granted> {
  let reservation: Reservation;
  try {
    reservation = await timer.time("db", () => deps.limits.reserveGeneration(input));
  } catch (err) {
    // Like every database call before Claude: nothing is lost, the client is told to retry. The limiter's
    // adapter has translated the driver's failure (shared/adapters/postgres_usage_limiter.ts).
    if (isUnavailable(err)) {
      throw appError("upstream_unavailable", "Cannot start the generation: the database is unavailable");
    }
    throw err;
  }
  if (reservation.allowed) return reservation;
  if (input.idempotencyKey !== null) {
    const existing = await timer.time(
      "db",
      () => deps.repo.findByIdempotencyKey(input.userId, input.idempotencyKey as string),
    );
    if (existing) return { allowed: true, tokensCharged: false, tokensWindowStart: null };
  }
  throw rateLimitedError(reservation, deps.clock.now());
}

/**
 * RFC 7240: `Prefer: respond-async` skips the wait for the parse result; `Prefer: wait=N` (seconds) shortens
 * it. Neither can lengthen it past the configured budget.
 */
export function parseWaitBudget(prefer: string | null, budgetMs: number): number {
  if (!prefer) return budgetMs;
  let wait = budgetMs;
  for (const token of prefer.split(",").map((t) => t.trim().toLowerCase())) {
    if (token === "respond-async") return 0;
    const m = /^wait\s*=\s*(\d+(?:\.\d+)?)$/.exec(token);
    if (m) wait = Math.min(wait, Number(m[1]) * 1000);
  }
  return wait;
}

/** The flow's outcome as HTTP (Server-Timing is added by serveHandler, from the same timer). */
function toResponse(outcome: GenerateOutcome): Response {
  switch (outcome.kind) {
    case "created":
      return json(outcome.view, 201);
    case "replayed":
      return json(outcome.view, 200, { "idempotent-replayed": "true" });
    case "claude_failed": {
      const f = outcome.failure;
      const cause = [f.status, f.errorType].filter((x) => x !== null).join(" ") || "no answer";
      const res = errorResponse(
        appError(
          f.kind === "unavailable" ? "upstream_unavailable" : "upstream_failed",
          `Cannot generate the conversation: Claude failed after ${f.attempts} attempt(s) (${cause})`,
          { conversation_id: outcome.conversationId, attempts: f.attempts },
        ),
      );
      if (f.retryAfterMs !== null) {
        res.headers.set("retry-after", String(Math.max(1, Math.ceil(f.retryAfterMs / 1000))));
      }
      return res;
    }
    case "unsaved": {
      const res = errorResponse(
        appError(
          "upstream_unavailable",
          "Cannot store the raw response: Storage and the database are unavailable; it was written to the function logs",
          { conversation_id: outcome.conversationId },
        ),
      );
      return res;
    }
  }
}

/**
 * POST → caller → budget → the flow → the answer. What it throws (a bad request, a refusal, a bug) is mapped by
 * serveHandler, which also attaches the phases this handler timed on `ctx.timer` as Server-Timing.
 */
export function handleGenerateConversation(deps: GenerateHandlerDeps): Handler {
  return async (req: Request, ctx: RequestContext) => {
    const timer = ctx.timer;
    requireMethod(req, "POST");
    const caller = resolveCaller(req, deps.serviceKeys, deps.clock.now().getTime());
    const acting = resolveActingUser(req, caller);
    const idempotencyKey = readIdempotencyKey(req);
    const request = await readJsonBody(req, GenerateRequestSchema, MAX_BODY_BYTES);
    const maxTokens = request.max_tokens ?? deps.config.maxTokens;
    const reservation = await reserve(deps, timer, {
      userId: acting.userId,
      maxTokens,
      isService: caller.kind === "service",
      idempotencyKey,
    });
    const metered = meteredClaude(deps.claude);
    let outcome: GenerateOutcome;
    try {
      outcome = await generateConversation({ ...deps, claude: metered.client }, {
        request,
        userId: acting.userId,
        userMustExist: acting.mustExist,
        idempotencyKey,
        requestHash: await requestHash(request),
        parseWaitMs: parseWaitBudget(req.headers.get("prefer"), deps.config.parseWaitMs),
      }, timer);
    } finally {
      // Settled whatever happened: a throw, a replay or a failed call gives back all that was not spent.
      await timer.time("db", () =>
        settleTokens(deps.limits, reservation, {
          userId: acting.userId,
          reserved: maxTokens,
          used: metered.outputTokens(),
        }));
    }
    return toResponse(outcome);
  };
}
