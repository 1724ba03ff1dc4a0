/**
 * Which failure (or success) the stand-in plays for a request. Pure: parsing a behaviour string, the seeded
 * random source, and the resolution of `mixed` / `fail_then_succeed` into one concrete outcome.
 *
 * Syntax (header `x-standin-behavior`, prompt marker `[standin:…]`, admin default, env default):
 *   name[:arg[:arg]] joined with `+`, e.g. `fenced`, `slow:2000`, `slow:1500+truncated`, `rate_limited:3`,
 *   `fail_then_succeed:2`, `fail_then_succeed:1:rate_limited+fenced`, `mixed`, `drip:20000+clean` (the stream's
 *   events spread evenly over 20 s: a long generation, for stream checkpoints).
 * See docs/LOCAL_STACK.md for what each behaviour sends.
 */

/** Behaviours that produce a Messages API answer (HTTP 200). */
export const CONTENT_BEHAVIORS = [
  "clean",
  "tool_use",
  "structured",
  "fenced",
  "prose_wrapped",
  "trailing_commas",
  "unescaped_quotes",
  "truncated",
  "truncated_content",
  "refusal",
  "empty",
  "stream_cut",
  "stream_error",
  "schema_rejected",
  "thinking",
  "thinking_cut",
] as const;

/** Behaviours that answer with an HTTP error before any content. */
export const ERROR_BEHAVIORS = ["rate_limited", "overloaded", "server_error", "spend_limit"] as const;

export type ContentBehavior = typeof CONTENT_BEHAVIORS[number];
export type ErrorBehavior = typeof ERROR_BEHAVIORS[number];
export type Outcome = ContentBehavior | ErrorBehavior;

export interface BehaviorSpec {
  /** The outcome when nothing else applies (default `clean`). */
  base: Outcome | "mixed";
  /** Added latency before the first byte. */
  latencyMs: number;
  /** Spread the streamed events over this many milliseconds (0: as fast as possible). */
  dripMs?: number;
  /** `retry-after` seconds on 429 (and 529) answers. */
  retryAfterSec: number;
  /** `overloaded:N`: the 529 carries `retry-after: N`; plain `overloaded` sends none. */
  overloadedRetryAfterSec?: number;
  /** The first `count` calls for the same seed fail with `outcome`, then `base` applies. */
  failFirst?: { count: number; outcome: ErrorBehavior | "stream_cut" };
}

export const DEFAULT_SPEC: BehaviorSpec = { base: "clean", latencyMs: 0, retryAfterSec: 1 };

function isOutcome(s: string): s is Outcome {
  return (CONTENT_BEHAVIORS as readonly string[]).includes(s) ||
    (ERROR_BEHAVIORS as readonly string[]).includes(s);
}

function nonNegativeInt(raw: string | undefined, what: string, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`Cannot read behaviour "${what}": "${raw}" is not a whole number`);
  }
  return n;
}

/** Parses a behaviour string; throws with a message naming the bad part (sent back as a 400). */
export function parseBehavior(text: string): BehaviorSpec {
  const spec: BehaviorSpec = { ...DEFAULT_SPEC };
  const parts = text.split("+").map((p) => p.trim().toLowerCase()).filter((p) => p !== "");
  for (const part of parts) {
    const [name, a, b] = part.split(":");
    switch (name) {
      case "slow":
        spec.latencyMs = nonNegativeInt(a, part, 2000);
        break;
      case "drip":
        spec.dripMs = nonNegativeInt(a, part, 10_000);
        break;
      case "mixed":
        spec.base = "mixed";
        break;
      case "fail_then_succeed": {
        const outcome = b ?? "overloaded";
        if (!["rate_limited", "overloaded", "server_error", "stream_cut"].includes(outcome)) {
          throw new Error(
            `Cannot read behaviour "${part}": fail_then_succeed fails with rate_limited, ` +
              `overloaded, server_error or stream_cut`,
          );
        }
        spec.failFirst = {
          count: nonNegativeInt(a, part, 1),
          outcome: outcome as ErrorBehavior | "stream_cut",
        };
        break;
      }
      case "rate_limited":
      case "overloaded":
        spec.base = name;
        spec.retryAfterSec = nonNegativeInt(a, part, spec.retryAfterSec);
        if (name === "overloaded" && a !== undefined && a !== "") {
          spec.overloadedRetryAfterSec = spec.retryAfterSec;
        }
        break;
      default:
        if (!isOutcome(name)) {
          throw new Error(
            `Cannot read behaviour "${part}": unknown name (known: ${
              [...CONTENT_BEHAVIORS, ...ERROR_BEHAVIORS, "slow", "drip", "mixed", "fail_then_succeed"].join(
                ", ",
              )
            })`,
          );
        }
        spec.base = name;
    }
  }
  return spec;
}

/** 32-bit FNV-1a: a stable seed from any string (a header value or the prompt). */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, deterministic; good enough to vary wording and pick behaviours. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `mixed` is mostly clean: about half of the draws are clean, the rest spread over the malformed, truncated
 * and transient outcomes in rough proportion to how often each shows up in practice.
 */
export const MIXED_WEIGHTS: ReadonlyArray<readonly [Outcome, number]> = [
  ["clean", 50],
  ["fenced", 8],
  ["prose_wrapped", 8],
  ["trailing_commas", 5],
  ["unescaped_quotes", 5],
  ["truncated", 5],
  ["truncated_content", 3],
  ["refusal", 2],
  ["empty", 2],
  ["overloaded", 4],
  ["rate_limited", 3],
  ["server_error", 2],
  ["stream_cut", 3],
];

const TRANSIENT: ReadonlySet<Outcome> = new Set(["overloaded", "rate_limited", "server_error", "stream_cut"]);

export function drawMixed(seed: number): Outcome {
  const total = MIXED_WEIGHTS.reduce((s, [, w]) => s + w, 0);
  // A separate stream from the content's, so the wording does not change with the behaviour drawn.
  let x = seededRandom(seed ^ 0x5bd1e995)() * total;
  for (const [outcome, w] of MIXED_WEIGHTS) {
    if (x < w) return outcome;
    x -= w;
  }
  return "clean";
}

export interface ResolveContext {
  seed: number;
  /** How many earlier calls this stand-in has seen with the same seed. */
  callIndex: number;
  isStream: boolean;
  hasOutputFormat: boolean;
}

/**
 * One concrete outcome for this call. Transient failures drawn by `mixed` apply to the first call of a seed
 * only, so a client that retries the same request recovers, as it would against the real API.
 */
export function resolveOutcome(spec: BehaviorSpec, ctx: ResolveContext): Outcome {
  if (spec.failFirst && ctx.callIndex < spec.failFirst.count) {
    const o = spec.failFirst.outcome;
    return o === "stream_cut" && !ctx.isStream ? "server_error" : o;
  }
  let outcome: Outcome;
  if (spec.base === "mixed") {
    outcome = drawMixed(ctx.seed);
    if (TRANSIENT.has(outcome) && ctx.callIndex > 0) outcome = "clean";
  } else {
    outcome = spec.base;
  }
  if (outcome === "schema_rejected" && !ctx.hasOutputFormat) return "clean";
  return outcome;
}
