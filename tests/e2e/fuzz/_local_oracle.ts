/**
 * Keeps well-formed requests out of the bad-input suite. Each generated case is first run, in this process,
 * through the function's real handler (the code deployed, from shared/) wired to tripwire dependencies that
 * record any call, behind the gateway's own key translation and verify_jwt check. A case that reaches a
 * dependency passed every validation: it is only kept when the ids it names cannot match anything the caller may
 * touch (a fresh uuid, or B's item asked for by A), so the real answer must still be a 4xx; otherwise it is
 * drawn again. Without this, a mutation that happens to produce a valid body (say `{"dry_run": false}` for the
 * monitor) would really run the monitor, and the suite would blame the product for its own request.
 *
 * Nothing here touches the network or the database.
 */
import { translateApiKey } from "../../../local/gateway/api_keys.ts";
import { LOCAL_PUBLISHABLE_KEY, LOCAL_SECRET_KEY, verifyJwt } from "../../../local/keys.ts";
import { settingsFromEnv } from "../../../shared/generate/config.ts";
import { systemClock } from "../../../shared/pipeline/clock.ts";
import { handleGenerateConversation } from "../../../shared/generate/handler.ts";
import { type Handler, serveHandler } from "../../../shared/http/serve.ts";
import { setLogSink } from "../../../shared/log.ts";
import { handleStorageHealthMonitor } from "../../../shared/monitor/handle_storage_health_monitor.ts";
import { handleParseConversation } from "../../../shared/parse_flow/handle_parse_conversation.ts";
import type { ParseFlowDeps } from "../../../shared/parse_flow/parse_conversation.ts";
import { handleRawRetention } from "../../../shared/retention/handle_raw_retention.ts";
import { retentionConfigFromEnv } from "../../../shared/retention/retention_env.ts";
import { handleReviewQueue } from "../../../shared/review/handler.ts";
import type { World } from "./_world.ts";

export type FunctionName =
  | "generate-conversation"
  | "parse-conversation"
  | "review-queue"
  | "storage-health-monitor"
  | "raw-retention";

export const VERIFY_JWT: Record<FunctionName, boolean> = {
  "generate-conversation": true,
  "parse-conversation": false,
  "review-queue": true,
  "storage-health-monitor": false,
  "raw-retention": false,
};

export interface LocalVerdict {
  /** The status the local handler (or the emulated platform check) answered. */
  status: number;
  /** Whether the request got past validation to a database, Storage or Claude call. */
  reachedIo: boolean;
}

/** A stand-in for any dependency object: every method call is counted and fails. */
function tripwire<T>(hits: { n: number }): T {
  const fail = () => {
    hits.n++;
    throw new Error("tripwire: the request passed validation");
  };
  return new Proxy({}, {
    get: (_t, prop) => (prop === "then" ? undefined : fail),
  }) as T;
}

export class LocalOracle {
  readonly #hits = { n: 0 };
  readonly #handlers: Record<FunctionName, Handler>;
  readonly #keys;

  constructor(private readonly world: World) {
    const hits = this.#hits;
    const flow: ParseFlowDeps = {
      queue: tripwire(hits),
      store: tripwire(hits),
      parse: () => tripwire(hits),
      parserVersion: "fuzz",
      clock: { now: () => new Date(), monotonic: () => performance.now(), sleep: () => Promise.resolve() },
    };
    const env = (vars: Record<string, string>) => ({ get: (k: string) => vars[k] });
    const serviceKeys = world.serviceKeys;
    this.#handlers = {
      "generate-conversation": handleGenerateConversation({
        repo: tripwire(hits),
        store: tripwire(hits),
        claude: tripwire(hits),
        clock: systemClock,
        config: settingsFromEnv(env({ ANTHROPIC_API_KEY: "fuzz" })).generate,
        serviceKeys,
        limits: tripwire(hits),
      }),
      "parse-conversation": handleParseConversation({ flow, serviceKeys, concurrency: 1, spoolBatch: 1 }),
      "review-queue": handleReviewQueue({
        repo: tripwire(hits),
        store: tripwire(hits),
        flow,
        serviceKeys,
        signedUrlSeconds: 300,
        retryAllBudgetMs: 1000,
        health: { monitor: tripwire(hits), reader: tripwire(hits) },
      }),
      "storage-health-monitor": handleStorageHealthMonitor({
        store: tripwire(hits),
        sink: tripwire(hits),
        serviceKeys,
      }),
      "raw-retention": handleRawRetention({
        store: tripwire(hits),
        objects: tripwire(hits),
        config: retentionConfigFromEnv(env({})),
        serviceKeys,
      }),
    };
    this.#keys = {
      anonKey: world.anonJwt,
      serviceRoleKey: world.serviceKeys[0],
      publishableKey: LOCAL_PUBLISHABLE_KEY,
      secretKey: LOCAL_SECRET_KEY,
    };
  }

  async verdict(fn: FunctionName, req: Request): Promise<LocalVerdict> {
    const translated = translateApiKey(req, this.#keys);
    if (VERIFY_JWT[fn] && req.method !== "OPTIONS") {
      const header = translated.headers.get("authorization");
      const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!m || !(await verifyJwt(m[1], this.world.jwtSecret)).ok) return { status: 401, reachedIo: false };
    }
    this.#hits.n = 0;
    // The handlers log the tripwire's error as unhandled: keep that out of the test output.
    const previous = setLogSink(() => {});
    try {
      const res = await serveHandler(this.#handlers[fn], fn)(translated);
      await res.body?.cancel();
      return { status: res.status, reachedIo: this.#hits.n > 0 };
    } finally {
      setLogSink(previous);
    }
  }
}
