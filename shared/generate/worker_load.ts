/**
 * How many generations this worker (one isolate, one event loop) has between the Claude call and the end of
 * persisting the answer. The log-ahead reads it (shared/generate/write_ahead.ts): its timer runs on the event
 * loop the other generations keep busy, and fires late there (docs/FAULTS.md "Windows" has the figures), so
 * with other generations in flight the body is logged at once instead of after `logAheadAfterMs`.
 *
 * used by: shared/generate/generate.ts (enter/leave), shared/generate/write_ahead.ts (reads)
 */
export class WorkerLoad {
  #generations = 0;

  /** Counts one generation in; the returned function counts it out (once, however often it is called). */
  enter(): () => void {
    this.#generations++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#generations--;
    };
  }

  /** Generations in flight in this worker now, the caller's own included. */
  get generations(): number {
    return this.#generations;
  }
}

/** The worker's one counter: module state is per isolate, which is exactly the event loop being shared. */
export const workerLoad: WorkerLoad = new WorkerLoad();
