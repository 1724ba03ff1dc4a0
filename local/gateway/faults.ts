/**
 * Fault injection for the fault suite (tests/e2e/faults, docs/FAULTS.md): `GET|POST /_internal/faults` on the
 * gateway. Local stack only: hosted Supabase has no such endpoint, and nothing outside tests/ and local/ calls it.
 *
 *   storage  "up"        normal service
 *            "down"      every /storage/v1 request answers 502 with Kong's body for an upstream that is gone
 *                        (what a client sees while the storage-api container restarts)
 *            "error500"  every /storage/v1 request answers storage-api's own 500 InternalError
 *            "hang"      requests are held (no answer) until storage leaves "hang", then served as the new mode
 *                        says; a client that gives up meanwhile is simply gone (its request never runs)
 *   pg_net   "running"   normal service
 *            "paused"    the worker leaves the queue alone: wake-ups wait (delayed) until it runs again
 *            "dropping"  the worker takes requests off the queue and never sends them, and records no response:
 *                        pg_net's loss on a crash mid-flight (wake-ups lost)
 *   kill_function        SIGKILL the running worker of that function now (a crash, or hosted's CPU/memory limit):
 *                        its in-flight requests fail with 500 WORKER_ERROR; the next request boots a fresh worker
 *
 * Faults persist until changed (a test restores `{storage: "up", pg_net: "running"}` in a finally block) and end
 * with the gateway process: a restarted gateway is healthy.
 */
import { z } from "zod";
import { ERRORS } from "./storage/errors.ts";

export const STORAGE_FAULTS = ["up", "down", "error500", "hang"] as const;
export const PG_NET_FAULTS = ["running", "paused", "dropping"] as const;
export type StorageFault = (typeof STORAGE_FAULTS)[number];
export type PgNetFault = (typeof PG_NET_FAULTS)[number];

export const faultRequestSchema = z.strictObject({
  storage: z.enum(STORAGE_FAULTS).optional(),
  pg_net: z.enum(PG_NET_FAULTS).optional(),
  // Function folder names (supabase/functions): kebab-case, no path characters.
  kill_function: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, "must be a function name").optional(),
});
export type FaultRequest = z.infer<typeof faultRequestSchema>;

export interface FaultCounters {
  /** /storage/v1 requests answered with an injected error. */
  storage_failed: number;
  /** /storage/v1 requests that were held by "hang". */
  storage_held: number;
  /** pg_net requests taken off the queue and never sent. */
  pg_net_dropped: number;
  /** Function workers killed. */
  functions_killed: number;
}

export interface FaultView {
  storage: StorageFault;
  pg_net: PgNetFault;
  storage_since: string;
  pg_net_since: string;
  counters: FaultCounters;
}

type Log = (fields: Record<string, unknown>) => void;

/** Kong's answer when the upstream service does not respond (hosted: storage-api restarting or gone). */
function upstreamGone(): Response {
  return Response.json(
    { message: "An invalid response was received from the upstream server" },
    { status: 502 },
  );
}

export class Faults {
  private storageMode: StorageFault = "up";
  private pgNetMode: PgNetFault = "running";
  private storageSince = new Date();
  private pgNetSince = new Date();
  private readonly held = new Set<() => void>();
  readonly counters: FaultCounters = {
    storage_failed: 0,
    storage_held: 0,
    pg_net_dropped: 0,
    functions_killed: 0,
  };

  constructor(
    private readonly log: Log,
    private readonly hooks: { killFunction(name: string, reason: string): number; wakePgNet(): void },
  ) {}

  get storage(): StorageFault {
    return this.storageMode;
  }

  get pgNet(): PgNetFault {
    return this.pgNetMode;
  }

  view(): FaultView {
    return {
      storage: this.storageMode,
      pg_net: this.pgNetMode,
      storage_since: this.storageSince.toISOString(),
      pg_net_since: this.pgNetSince.toISOString(),
      counters: { ...this.counters },
    };
  }

  apply(req: FaultRequest): { killed: number } {
    if (req.storage !== undefined && req.storage !== this.storageMode) {
      this.log({ event: "fault_storage", from: this.storageMode, to: req.storage });
      this.storageMode = req.storage;
      this.storageSince = new Date();
      // Held requests re-check the new mode (served, failed, or held again).
      const waiting = [...this.held];
      this.held.clear();
      for (const release of waiting) release();
    }
    if (req.pg_net !== undefined && req.pg_net !== this.pgNetMode) {
      this.log({ event: "fault_pg_net", from: this.pgNetMode, to: req.pg_net });
      this.pgNetMode = req.pg_net;
      this.pgNetSince = new Date();
      // Back to running: deliver what waited now rather than on the next poll.
      if (req.pg_net === "running") this.hooks.wakePgNet();
    }
    let killed = 0;
    if (req.kill_function !== undefined) {
      killed = this.hooks.killFunction(req.kill_function, "fault injection");
      this.counters.functions_killed += killed;
      this.log({ event: "fault_kill_function", function: req.kill_function, killed });
    }
    return { killed };
  }

  /**
   * Runs before every /storage/v1 request: an injected answer, or null to serve the request normally. "hang"
   * waits here until the mode changes or the client goes away.
   */
  async storageGate(signal: AbortSignal): Promise<Response | null> {
    let counted = false;
    while (this.storageMode === "hang") {
      if (!counted) {
        this.counters.storage_held++;
        counted = true;
      }
      if (signal.aborted) return new Response(null, { status: 499 });
      await new Promise<void>((resolve) => {
        const release = () => {
          signal.removeEventListener("abort", release);
          this.held.delete(release);
          resolve();
        };
        this.held.add(release);
        signal.addEventListener("abort", release, { once: true });
      });
    }
    switch (this.storageMode) {
      case "down":
        this.counters.storage_failed++;
        return upstreamGone();
      case "error500":
        this.counters.storage_failed++;
        return ERRORS.internal().render();
      default:
        return null;
    }
  }
}

/** `GET /_internal/faults` → the current faults; `POST` with a FaultRequest → applies it, answers the new state. */
export async function handleFaultsRequest(faults: Faults, req: Request): Promise<Response> {
  if (req.method === "GET") return Response.json(faults.view());
  if (req.method !== "POST") {
    return Response.json({ message: "Use GET or POST on /_internal/faults" }, { status: 405 });
  }
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return Response.json({ message: "Cannot read the body: it must be a JSON object" }, { status: 400 });
  }
  const parsed = faultRequestSchema.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
    return Response.json({ message: `Cannot apply the faults: ${problems.join("; ")}` }, { status: 400 });
  }
  const { killed } = faults.apply(parsed.data);
  return Response.json({ ...faults.view(), ...(parsed.data.kill_function !== undefined ? { killed } : {}) });
}
