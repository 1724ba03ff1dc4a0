/**
 * generate-conversation's settings, read once at boot (a bad value fails the worker's boot, not a request).
 * Defaults and the reasons for them: docs/GENERATE.md, "Configuration".
 */
import { z } from "zod";
import { type EnvSource, numberFromEnv, schemaFromEnv } from "../env.ts";
import { MAX_TOKENS_MAX, MAX_TOKENS_MIN } from "./request.ts";

export const DEFAULTS = {
  // The current Sonnet (SDK 1.14 lists it first); claude-sonnet-4-5 reaches end-of-life on 2026-11-30.
  model: "claude-sonnet-5-5",
  /** Upstream went 2048 → 4096 → 24576 after truncated conversations. */
  maxTokens: 24576,
  /** Upstream raised 60 s to 180 s: structured outputs with long prompts exceeded 60 s. */
  timeoutMs: 180_000,
  maxRetries: 3,
  /** All attempts together stay inside the paid plans' 400 s wall clock, with room for storage and the DB. */
  deadlineMs: 380_000,
  parseWaitMs: 3000,
  uploadRetries: 3,
  uploadTimeoutMs: 15_000,
  /**
   * How long a write-ahead copy waits before the sweeper may flush it: longer than the upload's own retries
   * (4 × 15 s + backoffs) and the spool statement, so a live worker is never raced by the flush.
   */
  writeAheadLeaseMs: 120_000,
  /** Stream checkpoints: at most every 5 s or 32,768 characters of new content (docs/GENERATE.md). */
  checkpointEveryMs: 5000,
  checkpointEveryChars: 32_768,
  /**
   * The log-ahead (shared/generate/log_ahead.ts): the body goes to the function log when the write-ahead has not
   * committed this long after the answer's last byte, or at once when other generations share the worker.
   * 0 logs every answer; -1 (or `off`) never.
   */
  logAheadAfterMs: 3,
  /** Past the paid plans' 400 s wall clock: when it ends, the streaming worker is surely gone. */
  checkpointLeaseMs: 420_000,
} as const;

export interface ClaudeSettings {
  apiKey: string;
  baseURL?: string;
  model: string;
  maxTokens: number;
  timeoutMs: number;
  maxRetries: number;
  deadlineMs: number;
  standinBehavior?: string;
  standinSeed: boolean;
  structuredOutputs: boolean;
}

export interface GenerateSettings {
  model: string;
  maxTokens: number;
  parseWaitMs: number;
  uploadRetries: number;
  uploadTimeoutMs: number;
  writeAheadLeaseMs: number;
  checkpointEveryMs: number;
  checkpointEveryChars: number;
  checkpointLeaseMs: number;
  logAheadAfterMs: number;
}

const schema = z.object({
  ANTHROPIC_API_KEY: z.string().min(1, "is required"),
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_MODEL: z.string().min(1).optional(),
  CLAUDE_STANDIN_BEHAVIOR: z.string().min(1).optional(),
  CLAUDE_STRUCTURED_OUTPUTS: z.enum(["true", "false"]).optional(),
});

function intFromEnv(env: EnvSource, name: string, fallback: number, min: number, max: number): number {
  const n = numberFromEnv(env, name, fallback);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`Cannot start: ${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  const host = new URL(url).hostname;
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
}

/**
 * The Claude client's and the flow's settings from the environment, read once at boot: each value bounded, a
 * bad one refused with `Cannot start: …` rather than a request failing later.
 */
export function settingsFromEnv(env: EnvSource): { claude: ClaudeSettings; generate: GenerateSettings } {
  const e = schemaFromEnv(schema, env);
  const model = e.ANTHROPIC_MODEL ?? DEFAULTS.model;
  const maxTokens = intFromEnv(env, "CLAUDE_MAX_TOKENS", DEFAULTS.maxTokens, MAX_TOKENS_MIN, MAX_TOKENS_MAX);
  const claude: ClaudeSettings = {
    apiKey: e.ANTHROPIC_API_KEY,
    baseURL: e.ANTHROPIC_BASE_URL,
    model,
    maxTokens,
    timeoutMs: intFromEnv(env, "CLAUDE_TIMEOUT_MS", DEFAULTS.timeoutMs, 1000, 3_600_000),
    maxRetries: intFromEnv(env, "CLAUDE_MAX_RETRIES", DEFAULTS.maxRetries, 0, 10),
    deadlineMs: intFromEnv(env, "GENERATE_DEADLINE_MS", DEFAULTS.deadlineMs, 1000, 3_600_000),
    standinBehavior: e.CLAUDE_STANDIN_BEHAVIOR,
    // Only towards the local stand-in (a loopback base URL, or a behaviour asked for): the real API never sees it.
    standinSeed: e.CLAUDE_STANDIN_BEHAVIOR !== undefined || isLoopback(e.ANTHROPIC_BASE_URL),
    structuredOutputs: e.CLAUDE_STRUCTURED_OUTPUTS !== "false",
  };
  const generate: GenerateSettings = {
    model,
    maxTokens,
    parseWaitMs: intFromEnv(env, "GENERATE_PARSE_WAIT_MS", DEFAULTS.parseWaitMs, 0, 60_000),
    uploadRetries: intFromEnv(env, "STORAGE_UPLOAD_RETRIES", DEFAULTS.uploadRetries, 0, 10),
    uploadTimeoutMs: intFromEnv(env, "STORAGE_UPLOAD_TIMEOUT_MS", DEFAULTS.uploadTimeoutMs, 100, 120_000),
    writeAheadLeaseMs: intFromEnv(
      env,
      "GENERATE_WRITE_AHEAD_LEASE_MS",
      DEFAULTS.writeAheadLeaseMs,
      1000,
      3_600_000,
    ),
    checkpointEveryMs: intFromEnv(env, "GENERATE_CHECKPOINT_MS", DEFAULTS.checkpointEveryMs, 0, 600_000),
    checkpointEveryChars: intFromEnv(
      env,
      "GENERATE_CHECKPOINT_CHARS",
      DEFAULTS.checkpointEveryChars,
      0,
      16_777_216,
    ),
    checkpointLeaseMs: intFromEnv(
      env,
      "GENERATE_CHECKPOINT_LEASE_MS",
      DEFAULTS.checkpointLeaseMs,
      1000,
      3_600_000,
    ),
    logAheadAfterMs: DEFAULTS.logAheadAfterMs,
  };
  const logAheadRaw = env.get("GENERATE_LOG_AHEAD_MS");
  const logAheadOff = ["off", "-1"].includes(logAheadRaw?.trim().toLowerCase() ?? "");
  generate.logAheadAfterMs = logAheadOff
    ? -1
    : intFromEnv(env, "GENERATE_LOG_AHEAD_MS", DEFAULTS.logAheadAfterMs, 0, 60_000);
  return { claude, generate };
}
