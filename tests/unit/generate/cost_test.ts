import assert from "node:assert/strict";
import { estimateBatchCostUsd, estimateCostUsd, priceFor } from "../../../shared/generate/cost.ts";

Deno.test("priceFor() matches dated ids to their family and prefers the longest prefix", () => {
  assert.equal(priceFor("claude-sonnet-4-5-20250929")?.prefix, "claude-sonnet-4-5");
  assert.equal(priceFor("claude-sonnet-4-20250514")?.prefix, "claude-sonnet-4");
  assert.equal(priceFor("claude-sonnet-5-5")?.prefix, "claude-sonnet-5-5");
  assert.equal(priceFor("claude-opus-4-5")?.prefix, "claude-opus-4-5");
  assert.equal(priceFor("claude-opus-4-1-20250805")?.prefix, "claude-opus-4-1");
  assert.equal(priceFor("claude-sonnet-45"), null, "a prefix only matches at a dash");
  assert.equal(priceFor("gpt-5"), null);
  assert.equal(priceFor(null), null);
});

Deno.test("estimateCostUsd() prices Sonnet 4.5 at $3/$15 per million tokens", () => {
  // 1,000 input + 2,000 output tokens: 0.003 + 0.030
  assert.equal(estimateCostUsd("claude-sonnet-4-5", { input_tokens: 1000, output_tokens: 2000 }), 0.033);
});

Deno.test("estimateCostUsd() charges cache writes at 1.25x and reads at 0.1x the input price", () => {
  const usd = estimateCostUsd("claude-sonnet-4-5", {
    input_tokens: 0,
    output_tokens: 0,
    cache_creation_input_tokens: 1_000_000,
    cache_read_input_tokens: 1_000_000,
  });
  assert.equal(usd, 3.75 + 0.3);
});

Deno.test("estimateCostUsd() is null for an unknown model rather than a guess", () => {
  assert.equal(estimateCostUsd("claude-unknown-9", { input_tokens: 10, output_tokens: 10 }), null);
});

Deno.test("estimateBatchCostUsd() is half the standard price, and null for an unknown model", () => {
  assert.equal(
    estimateBatchCostUsd("claude-sonnet-4-5", { input_tokens: 1000, output_tokens: 2000 }),
    0.0165,
  );
  assert.equal(estimateBatchCostUsd("gpt-5", { input_tokens: 1000, output_tokens: 2000 }), null);
});
