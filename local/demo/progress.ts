/**
 * Progress while the demo batch runs. On a terminal: one line per finished conversation, with a live bar
 * redrawn underneath. Elsewhere (CI, a pipe, the e2e test): the same finished lines and, when nothing has
 * finished for a while, a plain status line, so a log shows the job is alive without control codes.
 */
import { formatDuration, type ItemResult, statusOf } from "./report.ts";

export interface ProgressSnapshot {
  total: number;
  /** Requests answered by generate-conversation (with or without a conversation). */
  answered: number;
  /** Conversations in a terminal state, plus requests that made none. */
  settled: number;
  /** Current status of every conversation that has a row, and "waiting" for requests not yet answered. */
  byStatus: Record<string, number>;
  elapsedMs: number;
}

export interface ProgressSink {
  write(text: string): void;
}

const BAR_WIDTH = 24;

function statusList(s: ProgressSnapshot): string {
  return Object.entries(s.byStatus)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(" · ");
}

/** `[#########---------------]  5/12  completed 4 · parse_failed 1 · generating 3  6.2 s` */
export function renderBar(s: ProgressSnapshot): string {
  const done = s.total === 0 ? BAR_WIDTH : Math.round((s.settled / s.total) * BAR_WIDTH);
  const bar = "#".repeat(done) + "-".repeat(BAR_WIDTH - done);
  const width = String(s.total).length;
  return `[${bar}] ${String(s.settled).padStart(width)}/${s.total}  ${statusList(s)}  ${
    (s.elapsedMs / 1000).toFixed(1)
  } s`;
}

/** `  [ 3/12] 737c3bb2-8a4d-4b8f-ad78-2b9fcbf8cd0d  completed  direct  0.4 s` */
export function renderSettledLine(r: ItemResult, position: number, total: number): string {
  const width = String(total).length;
  const id = r.row?.conversation_id ?? r.answer?.conversationId ?? "(no conversation)";
  const method = r.row?.parse_method_used ?? "";
  const secs = r.row ? r.row.seconds : (r.answer?.ms ?? 0) / 1000;
  return `  [${String(position).padStart(width)}/${total}] ${id}  ${statusOf(r)}${
    method ? `  ${method}` : ""
  }  ${formatDuration(secs)}`;
}

/** Plain status line for logs: `  … 8/12 settled; generating 2 · parsing 2 (31 s)` */
export function renderHeartbeat(s: ProgressSnapshot): string {
  return `  … ${s.settled}/${s.total} settled; ${statusList(s)} (${Math.round(s.elapsedMs / 1000)} s)`;
}

export class Progress {
  private settledCount = 0;
  private lastLineAt = 0;
  private barShown = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly isTty: boolean,
    private readonly heartbeatMs = 15_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastLineAt = now();
  }

  /** A conversation reached a terminal state (or its request made none). */
  settled(r: ItemResult, total: number): void {
    this.settledCount++;
    this.clearBar();
    this.sink.write(renderSettledLine(r, this.settledCount, total) + "\n");
    this.lastLineAt = this.now();
  }

  /** A line that is not about one conversation (a sweep, a warning). */
  note(text: string): void {
    this.clearBar();
    this.sink.write(`  ${text}\n`);
    this.lastLineAt = this.now();
  }

  update(s: ProgressSnapshot): void {
    if (this.isTty) {
      // \r + erase line: redraw in place; the bar is never followed by a newline until done().
      this.sink.write(`\r\x1b[2K${renderBar(s)}`);
      this.barShown = true;
      return;
    }
    if (this.now() - this.lastLineAt >= this.heartbeatMs) {
      this.sink.write(renderHeartbeat(s) + "\n");
      this.lastLineAt = this.now();
    }
  }

  /** Leaves the final bar on screen. */
  done(s: ProgressSnapshot): void {
    if (this.isTty) this.sink.write(`\r\x1b[2K${renderBar(s)}\n`);
    this.barShown = false;
  }

  private clearBar(): void {
    if (this.barShown) {
      this.sink.write("\r\x1b[2K");
      this.barShown = false;
    }
  }
}
