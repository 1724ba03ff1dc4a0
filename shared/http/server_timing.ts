/**
 * Per-request phase durations, reported in the `Server-Timing` header (`claude`, `raw_store`, `db`,
 * `parse_wait`, `total`) so a client, a load script or the browser's devtools see where the time went. The
 * raw-first overhead the benchmark measures is `write_ahead + raw_store + db` (`write_ahead`: the statement that
 * makes the answer durable before the upload).
 */

export type Phase = "claude" | "write_ahead" | "raw_store" | "db" | "parse_wait";

export const PHASES: readonly Phase[] = ["claude", "write_ahead", "raw_store", "db", "parse_wait"];

/** Adds up time per phase for one request; `serveHandler` turns it into the `Server-Timing` header. */
export class PhaseTimer {
  readonly #now: () => number;
  readonly #start: number;
  readonly #totals = new Map<Phase, number>();

  constructor(now: () => number) {
    this.#now = now;
    this.#start = now();
  }

  add(phase: Phase, ms: number): void {
    this.#totals.set(phase, (this.#totals.get(phase) ?? 0) + ms);
  }

  async time<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    const t0 = this.#now();
    try {
      return await fn();
    } finally {
      this.add(phase, this.#now() - t0);
    }
  }

  get(phase: Phase): number {
    return this.#totals.get(phase) ?? 0;
  }

  header(): string {
    const parts: string[] = [];
    for (const phase of PHASES) {
      if (this.#totals.has(phase)) parts.push(`${phase};dur=${this.get(phase).toFixed(1)}`);
    }
    parts.push(`total;dur=${(this.#now() - this.#start).toFixed(1)}`);
    return parts.join(", ");
  }
}

/** Reads `Server-Timing` back into milliseconds per metric (for tests and the load script). */
export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  if (!header) return out;
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().split(";");
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
    if (name && dur) out[name.trim()] = Number(dur.slice(4));
  }
  return out;
}
