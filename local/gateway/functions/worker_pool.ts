/**
 * One warm Deno process per function (local/gateway/functions/worker_entry.ts), started on its first request
 * and kept running, like a hosted `per_worker` isolate. A worker is replaced when its files change (hot
 * reload: new requests go to a fresh worker, the old one finishes what it has, then stops), when it dies,
 * and when a request hits the wall-clock limit (the hosted runtime terminates the worker then too).
 *
 * Workers get the hosted environment only (`clearEnv`), no `--allow-run`/`--allow-ffi`, writes limited to
 * /tmp, and resolve imports through the function's own import map (config.toml `import_map`, as deployed). Their stdout/stderr lines go to the gateway log prefixed with the function name.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../../paths.ts";
import type { FunctionEntry } from "./registry.ts";

const READY_MARKER = "@@zl-worker-ready ";
/** For a function without `import_map` in config.toml: like its deploy, it then resolves no bare specifier. */
const NO_IMPORTS = join(REPO_ROOT, "local", "gateway", "functions", "no_imports.json");
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 12_000;

export class BootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BootError";
  }
}

export interface WorkerHandle {
  port: number;
  /** Call when the request (including a streamed body) is done. */
  release(): void;
  /** Terminate this worker now (wall-clock limit); in-flight requests on it fail. */
  kill(reason: string): void;
}

type Log = (fields: Record<string, unknown>) => void;

class Worker {
  readonly id = crypto.randomUUID();
  private child: Deno.ChildProcess | null = null;
  private ready: Promise<number> | null = null;
  private inflight = 0;
  private retired = false;
  exited = false;

  constructor(
    readonly entry: FunctionEntry,
    private readonly env: Record<string, string>,
    private readonly origin: string,
    private readonly log: Log,
    private readonly onExit: (w: Worker) => void,
  ) {}

  start(): Promise<number> {
    if (this.ready) return this.ready;
    this.ready = new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-prompt",
          "--allow-net",
          "--allow-env",
          "--allow-read",
          "--allow-sys",
          "--allow-write=/tmp",
          // request.signal aborts only when the client goes away (Deno's legacy mode also aborts it after every
          // successful response and warns about it on each worker).
          "--unstable-no-legacy-abort",
          // The import map `supabase functions deploy` uploads for this function (config.toml `import_map`),
          // never the root deno.json's imports: a function that would not deploy does not run here either.
          "--import-map",
          this.entry.importMap ?? NO_IMPORTS,
          join(REPO_ROOT, "local", "gateway", "functions", "worker_entry.ts"),
          this.entry.entrypoint,
          this.entry.name,
          this.origin,
        ],
        cwd: REPO_ROOT,
        clearEnv: true,
        env: { ...this.env, SB_EXECUTION_ID: this.id },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      this.child = child;
      const stderrTail: string[] = [];
      let booted = false;
      const timer = setTimeout(() => {
        if (!booted) {
          reject(new BootError(`did not start serving within ${BOOT_TIMEOUT_MS} ms`));
          this.kill("boot timeout");
        }
      }, BOOT_TIMEOUT_MS);
      const pump = async (stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr") => {
        const dec = new TextDecoderStream();
        let buf = "";
        for await (const chunk of stream.pipeThrough(dec)) {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf("\n")) !== -1) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (name === "stdout" && !booted && line.startsWith(READY_MARKER)) {
              booted = true;
              clearTimeout(timer);
              const port = Number(JSON.parse(line.slice(READY_MARKER.length)).port);
              this.log({
                event: "function_worker_ready",
                function: this.entry.name,
                ms: Date.now() - started,
              });
              resolve(port);
              continue;
            }
            if (name === "stderr") {
              stderrTail.push(line);
              if (stderrTail.length > 30) stderrTail.shift();
            }
            this.log({ event: "function_log", function: this.entry.name, stream: name, line });
          }
        }
        if (buf !== "") {
          this.log({ event: "function_log", function: this.entry.name, stream: name, line: buf });
        }
      };
      void pump(child.stdout, "stdout");
      void pump(child.stderr, "stderr");
      child.status.then((status) => {
        this.exited = true;
        clearTimeout(timer);
        this.log({
          event: "function_worker_exit",
          function: this.entry.name,
          code: status.code,
          signal: status.signal,
        });
        if (!booted) {
          reject(new BootError(stderrTail.slice(-10).join("\n") || `worker exited with code ${status.code}`));
        }
        this.onExit(this);
      });
    });
    return this.ready;
  }

  acquire(): void {
    this.inflight++;
  }

  release(): void {
    this.inflight = Math.max(0, this.inflight - 1);
    if (this.retired && this.inflight === 0) this.stop();
  }

  /** No new requests; stop once the in-flight ones are done. */
  retire(): void {
    this.retired = true;
    if (this.inflight === 0) this.stop();
  }

  get isRetired(): boolean {
    return this.retired;
  }

  /** SIGTERM (the worker fires beforeunload and drains waitUntil work), SIGKILL after a grace period. */
  stop(): void {
    const child = this.child;
    if (!child || this.exited) return;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const t = setTimeout(() => {
      if (!this.exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
    }, STOP_GRACE_MS);
    child.status.finally(() => clearTimeout(t));
  }

  kill(reason: string): void {
    this.retired = true;
    this.log({ event: "function_worker_kill", function: this.entry.name, reason });
    if (this.child && !this.exited) {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }
}

export class WorkerPool {
  private readonly workers = new Map<string, Worker>();
  private readonly all = new Set<Worker>();

  constructor(
    private readonly envFor: (entry: FunctionEntry) => Record<string, string>,
    private readonly origin: string,
    private readonly log: Log,
  ) {}

  /** A ready worker for the function (booting one if needed). Throws BootError when it cannot start. */
  async acquire(entry: FunctionEntry): Promise<WorkerHandle> {
    let w = this.workers.get(entry.name);
    if (!w || w.isRetired || w.exited || w.entry.entrypoint !== entry.entrypoint) {
      w?.retire();
      w = new Worker(entry, this.envFor(entry), this.origin, this.log, (dead) => {
        this.all.delete(dead);
        if (this.workers.get(dead.entry.name) === dead) this.workers.delete(dead.entry.name);
      });
      this.workers.set(entry.name, w);
      this.all.add(w);
    }
    const worker = w;
    worker.acquire();
    let port: number;
    try {
      port = await worker.start();
    } catch (err) {
      worker.release();
      // A failed boot is not cached: the next request tries again (the code may have been fixed).
      if (this.workers.get(entry.name) === worker) this.workers.delete(entry.name);
      throw err;
    }
    let released = false;
    return {
      port,
      release: () => {
        if (released) return;
        released = true;
        worker.release();
      },
      kill: (reason) => {
        if (this.workers.get(entry.name) === worker) this.workers.delete(entry.name);
        worker.kill(reason);
      },
    };
  }

  /**
   * Fault injection (local/gateway/faults.ts): SIGKILL the current worker of one function, as a crash or a
   * platform limit would. Its in-flight requests fail; the next request boots a fresh worker. Returns how many
   * workers were killed (0 when none was running).
   */
  killFunction(name: string, reason: string): number {
    const w = this.workers.get(name);
    if (!w || w.exited) return 0;
    this.workers.delete(name);
    w.kill(reason);
    return 1;
  }

  /** Hot reload: every current worker finishes its requests and is replaced on the next one. */
  retireAll(reason: string): number {
    let n = 0;
    for (const w of this.workers.values()) {
      w.retire();
      n++;
    }
    this.workers.clear();
    if (n > 0) this.log({ event: "function_workers_retired", reason, count: n });
    return n;
  }

  async shutdown(): Promise<void> {
    this.workers.clear();
    const waits: Promise<unknown>[] = [];
    for (const w of this.all) {
      w.stop();
      waits.push(
        new Promise((r) => {
          const t = setInterval(() => {
            if (w.exited) {
              clearInterval(t);
              r(null);
            }
          }, 50);
        }),
      );
    }
    await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, STOP_GRACE_MS + 1000))]);
  }

  list(): Array<{ function: string; id: string }> {
    return [...this.workers.values()].map((w) => ({ function: w.entry.name, id: w.id }));
  }
}
