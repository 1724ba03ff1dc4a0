/**
 * A cost estimate per Claude call, stored in `conversations.cost_usd` so operators can sum spend per day, user
 * or failure class (the checklist prices a failed attempt at about $0.0376).
 *
 * Prices are list prices in USD per million tokens (docs/GENERATE.md has the table and its date). Cache writes
 * cost 1.25× and cache reads 0.1× the input price. The estimate is null for a model not in the table: a wrong
 * number is worse than none.
 */

export interface TokenUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export interface ModelPrice {
  /** Matched against the model id's start, so dated ids (`claude-sonnet-4-5-20250929`) find their family. */
  prefix: string;
  inputPerMTok: number;
  outputPerMTok: number;
}

/**
 * List prices (platform.claude.com model pages, read 2026-11-26). Matching takes the longest prefix, so
 * `claude-sonnet-5-5` wins over `claude-sonnet-5` and `claude-opus-4-5` over `claude-opus-4`. Models with
 * tiered prices (Haiku 5.5) are left out on purpose.
 */
export const PRICE_TABLE: readonly ModelPrice[] = [
  { prefix: "claude-fable-5-1", inputPerMTok: 10, outputPerMTok: 50 },
  { prefix: "claude-opus-5-5", inputPerMTok: 4, outputPerMTok: 20 },
  { prefix: "claude-opus-5", inputPerMTok: 5, outputPerMTok: 25 },
  { prefix: "claude-sonnet-5-5", inputPerMTok: 2, outputPerMTok: 10 },
  { prefix: "claude-sonnet-5", inputPerMTok: 2, outputPerMTok: 10 },
  { prefix: "claude-sonnet-4-6", inputPerMTok: 3, outputPerMTok: 15 },
  { prefix: "claude-sonnet-4-5", inputPerMTok: 3, outputPerMTok: 15 },
  { prefix: "claude-sonnet-4", inputPerMTok: 3, outputPerMTok: 15 },
  { prefix: "claude-opus-4-5", inputPerMTok: 5, outputPerMTok: 25 },
  { prefix: "claude-opus-4-1", inputPerMTok: 15, outputPerMTok: 75 },
  { prefix: "claude-opus-4", inputPerMTok: 15, outputPerMTok: 75 },
  { prefix: "claude-haiku-4-5", inputPerMTok: 1, outputPerMTok: 5 },
  { prefix: "claude-3-7-sonnet", inputPerMTok: 3, outputPerMTok: 15 },
  { prefix: "claude-3-5-haiku", inputPerMTok: 0.8, outputPerMTok: 4 },
];

const BY_LENGTH = [...PRICE_TABLE].sort((a, b) => b.prefix.length - a.prefix.length);

/**
 * The price of a model id: the longest table prefix that is the id itself or the id before a `-` suffix (a
 * dated snapshot), so `claude-sonnet-4-5-20250929` is priced as `claude-sonnet-4-5`; null when unknown.
 */
export function priceFor(model: string | null | undefined): ModelPrice | null {
  if (!model) return null;
  return BY_LENGTH.find((p) => model === p.prefix || model.startsWith(`${p.prefix}-`)) ?? null;
}

/** USD rounded to 6 decimals (the column is numeric(12,6)), or null when the model has no known price. */
export function estimateCostUsd(model: string | null | undefined, usage: TokenUsage): number | null {
  const price = priceFor(model);
  if (!price) return null;
  const n = (v: number | null | undefined) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const usd = (n(usage.input_tokens) * price.inputPerMTok +
    n(usage.cache_creation_input_tokens) * price.inputPerMTok * 1.25 +
    n(usage.cache_read_input_tokens) * price.inputPerMTok * 0.1 +
    n(usage.output_tokens) * price.outputPerMTok) / 1_000_000;
  return Math.round(usd * 1e6) / 1e6;
}

/** The Message Batches API bills input and output tokens at half the standard price (docs/BATCHES.md). */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * The cost of one request answered through the Message Batches API: the standard estimate at half price,
 * rounded to 6 decimals; null for a model not in the table (like `estimateCostUsd`).
 */
export function estimateBatchCostUsd(model: string | null | undefined, usage: TokenUsage): number | null {
  const full = estimateCostUsd(model, usage);
  return full === null ? null : Math.round(full * BATCH_PRICE_FACTOR * 1e6) / 1e6;
}
