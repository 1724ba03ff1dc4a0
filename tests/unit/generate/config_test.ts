import assert from "node:assert/strict";
import { DEFAULTS, settingsFromEnv } from "../../../shared/generate/config.ts";

function env(vars: Record<string, string>) {
  return { get: (name: string) => vars[name] };
}

Deno.test("settingsFromEnv() applies the documented defaults", () => {
  const { claude, generate } = settingsFromEnv(env({ ANTHROPIC_API_KEY: "sk-test" }));
  assert.equal(claude.model, "claude-sonnet-5-5");
  assert.equal(claude.maxTokens, 24576);
  assert.equal(claude.timeoutMs, 180_000);
  assert.equal(claude.maxRetries, 3);
  assert.equal(claude.deadlineMs, DEFAULTS.deadlineMs);
  assert.equal(claude.structuredOutputs, true);
  assert.equal(claude.baseURL, undefined);
  assert.equal(claude.standinSeed, false, "never towards the real API");
  assert.deepEqual(generate, {
    model: "claude-sonnet-5-5",
    maxTokens: 24576,
    parseWaitMs: 3000,
    uploadRetries: 3,
    uploadTimeoutMs: 15_000,
    writeAheadLeaseMs: 120_000,
    checkpointEveryMs: 5000,
    checkpointEveryChars: 32_768,
    checkpointLeaseMs: 420_000,
    logAheadAfterMs: 3,
  });
});

Deno.test("settingsFromEnv() reads every variable", () => {
  const { claude, generate } = settingsFromEnv(env({
    ANTHROPIC_API_KEY: "sk-test",
    ANTHROPIC_BASE_URL: "http://127.0.0.1:54330",
    ANTHROPIC_MODEL: "claude-sonnet-4-6",
    CLAUDE_MAX_TOKENS: "8192",
    CLAUDE_TIMEOUT_MS: "60000",
    CLAUDE_MAX_RETRIES: "0",
    CLAUDE_STANDIN_BEHAVIOR: "fenced",
    CLAUDE_STRUCTURED_OUTPUTS: "false",
    GENERATE_PARSE_WAIT_MS: "0",
    GENERATE_DEADLINE_MS: "140000",
    STORAGE_UPLOAD_RETRIES: "5",
    STORAGE_UPLOAD_TIMEOUT_MS: "2000",
  }));
  assert.equal(claude.model, "claude-sonnet-4-6");
  assert.equal(generate.model, "claude-sonnet-4-6");
  assert.equal(claude.maxTokens, 8192);
  assert.equal(claude.maxRetries, 0);
  assert.equal(claude.deadlineMs, 140_000);
  assert.equal(claude.standinBehavior, "fenced");
  assert.equal(claude.standinSeed, true);
  assert.equal(claude.structuredOutputs, false);
  assert.equal(generate.parseWaitMs, 0);
  assert.equal(generate.uploadRetries, 5);
  assert.equal(generate.uploadTimeoutMs, 2000);
});

Deno.test("settingsFromEnv() reads the log-ahead delay: a number of ms, 0 (always), -1 or off (never)", () => {
  const read = (v: string) =>
    settingsFromEnv(env({ ANTHROPIC_API_KEY: "k", GENERATE_LOG_AHEAD_MS: v })).generate.logAheadAfterMs;
  assert.deepEqual([read("10"), read("0"), read("-1"), read("off"), read(" OFF ")], [10, 0, -1, -1, -1]);
  assert.throws(() => read("-2"), /GENERATE_LOG_AHEAD_MS/);
  assert.throws(() => read("soon"), /GENERATE_LOG_AHEAD_MS/);
});

Deno.test("settingsFromEnv() sends the stand-in seed to a loopback base URL only", () => {
  const local = settingsFromEnv(
    env({ ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: "http://localhost:54330" }),
  );
  assert.equal(local.claude.standinSeed, true);
  const proxy = settingsFromEnv(
    env({ ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: "https://gateway.example.com" }),
  );
  assert.equal(proxy.claude.standinSeed, false);
});

const bad: ReadonlyArray<[string, Record<string, string>, RegExp]> = [
  ["a missing API key", {}, /ANTHROPIC_API_KEY/],
  [
    "max tokens over the ceiling",
    { ANTHROPIC_API_KEY: "k", CLAUDE_MAX_TOKENS: "100000" },
    /CLAUDE_MAX_TOKENS/,
  ],
  ["a non-numeric timeout", { ANTHROPIC_API_KEY: "k", CLAUDE_TIMEOUT_MS: "soon" }, /CLAUDE_TIMEOUT_MS/],
  ["fractional retries", { ANTHROPIC_API_KEY: "k", CLAUDE_MAX_RETRIES: "1.5" }, /CLAUDE_MAX_RETRIES/],
  ["a bad base URL", { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: "not a url" }, /ANTHROPIC_BASE_URL/],
  [
    "a bad structured flag",
    { ANTHROPIC_API_KEY: "k", CLAUDE_STRUCTURED_OUTPUTS: "yes" },
    /CLAUDE_STRUCTURED_OUTPUTS/,
  ],
];

for (const [name, vars, message] of bad) {
  Deno.test(`settingsFromEnv() fails the boot on ${name}`, () => {
    assert.throws(() => settingsFromEnv(env(vars)), message);
  });
}
