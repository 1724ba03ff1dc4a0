/**
 * The pure half of the load run (bench/load.ts): percentiles, per-endpoint summaries, memory trends and the
 * text of the report. No I/O here, so the arithmetic is unit-tested (tests/unit/bench/load_report_test.ts).
 */

export type Endpoint = "generate" | "review_list" | "review_item";
export const ENDPOINTS: readonly Endpoint[] = ["generate", "review_list", "review_item"];

export interface Sample {
  endpoint: Endpoint;
  /** HTTP status; 0 when no answer arrived (connection error, client timeout). */
  status: number;
  ms: number;
}

/** Nearest-rank percentile of an ascending list (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export interface EndpointSummary {
  endpoint: Endpoint;
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** Answers by status, "0" for no answer. */
  statuses: Record<string, number>;
  /** Non-2xx answers and missing answers. */
  errors: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export function summarize(samples: readonly Sample[], seconds: number): EndpointSummary[] {
  return ENDPOINTS.map((endpoint) => {
    const mine = samples.filter((s) => s.endpoint === endpoint);
    const ms = mine.map((s) => s.ms).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const s of mine) statuses[String(s.status)] = (statuses[String(s.status)] ?? 0) + 1;
    const ok = mine.filter((s) => s.status >= 200 && s.status < 300).length;
    return {
      endpoint,
      requests: mine.length,
      ok,
      statuses,
      errors: mine.length - ok,
      rps: seconds > 0 ? mine.length / seconds : 0,
      p50_ms: percentile(ms, 50),
      p99_ms: percentile(ms, 99),
      max_ms: ms.length > 0 ? ms[ms.length - 1] : NaN,
    };
  });
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** `VmRSS` and `VmHWM` (peak) in kB from the text of /proc/<pid>/status; null when absent (a kernel thread). */
export function parseProcStatus(text: string): { rssKb: number; hwmKb: number } | null {
  const rss = /^VmRSS:\s+(\d+) kB$/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(text);
  if (!rss) return null;
  return { rssKb: Number(rss[1]), hwmKb: hwm ? Number(hwm[1]) : Number(rss[1]) };
}

/** A process the run watches: the gateway, or one function worker (named after its function). */
export interface MemorySample {
  /** Seconds since the start of the run. */
  t: number;
  name: string;
  pid: number;
  rssKb: number;
}

export interface MemoryTrend {
  name: string;
  /** Every pid seen under this name: more than one means the worker was replaced during the run. */
  pids: number[];
  startKb: number | null;
  /** First sample of the measured phase (after the warm-up): the baseline for growth. */
  warmKb: number | null;
  endKb: number | null;
  peakKb: number | null;
  growthKb: number | null;
  /** Least-squares trend over the measured phase of the last pid, kB per minute. */
  slopeKbPerMin: number | null;
  /**
   * The same trend over the second half of the measured phase only. V8 sizes its heap lazily, so a busy
   * process's RSS climbs for minutes before it levels off; a leak keeps climbing in the second half too.
   */
  lateSlopeKbPerMin: number | null;
}

/**
 * Start / warm / end per process. Growth is measured from the end of the warm-up, because the first minutes
 * of any Deno process grow by design (JIT code, module graph, connection pools); what must stay flat is what
 * comes after. A worker replaced mid-run (hot reload, a crash) restarts its series: growth covers the last pid.
 */
export function memoryTrends(samples: readonly MemorySample[], measuredFrom: number): MemoryTrend[] {
  const names = [...new Set(samples.map((s) => s.name))];
  return names.map((name) => {
    const mine = samples.filter((s) => s.name === name).sort((a, b) => a.t - b.t);
    const pids = [...new Set(mine.map((s) => s.pid))];
    const lastPid = pids[pids.length - 1];
    const last = mine.filter((s) => s.pid === lastPid);
    const measured = last.filter((s) => s.t >= measuredFrom);
    const warm = measured[0] ?? null;
    const end = mine[mine.length - 1] ?? null;
    const mid = measured.length > 0 ? (measured[0].t + measured[measured.length - 1].t) / 2 : 0;
    const late = measured.filter((s) => s.t >= mid);
    return {
      name,
      pids,
      startKb: mine[0]?.rssKb ?? null,
      warmKb: warm?.rssKb ?? null,
      endKb: end?.rssKb ?? null,
      peakKb: mine.length > 0 ? Math.max(...mine.map((s) => s.rssKb)) : null,
      growthKb: warm && end ? end.rssKb - warm.rssKb : null,
      slopeKbPerMin: measured.length >= 2 ? slope(measured.map((s) => ({ x: s.t / 60, y: s.rssKb }))) : null,
      lateSlopeKbPerMin: late.length >= 2 ? slope(late.map((s) => ({ x: s.t / 60, y: s.rssKb }))) : null,
    };
  });
}

export interface ConversationCounts {
  /** 201 answers of generate-conversation in the measured phase. */
  accepted: number;
  /** Rows of the run's users created in the measured phase. */
  rows: number;
  /** Raw objects of those rows in Storage. */
  rawObjects: number;
  completed: number;
  inReview: number;
  generationFailed: number;
  /** Rows not terminal after the drain. */
  stuck: number;
  /** Completed rows whose final state was reached inside the measured phase. */
  completedInWindow: number;
  /** created_at → updated_at of completed rows, ms. */
  e2eP50Ms: number;
  e2eP99Ms: number;
  drainSeconds: number;
}

export interface LoadReport {
  date: string;
  machine: string;
  command: string;
  clients: number;
  users: number;
  warmupSeconds: number;
  seconds: number;
  reviewShare: number;
  wait: "parse" | "async";
  endpoints: EndpointSummary[];
  totalRps: number;
  conversations: ConversationCounts;
  completedPerSecond: number;
  memory: MemoryTrend[];
  /** Load average (1 min) at the end of the measured phase, for context on a shared machine. */
  loadAverage: number | null;
}

function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return "-";
  return n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US");
}

function mb(kb: number | null): string {
  return kb === null ? "-" : (kb / 1024).toFixed(1);
}

function signedMb(kb: number | null): string {
  if (kb === null) return "-";
  const v = kb / 1024;
  return `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;
}

function table(rows: string[][], align: ("l" | "r")[]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r.map((cell, c) => align[c] === "r" ? cell.padStart(widths[c]) : cell.padEnd(widths[c])).join("  ")
      .trimEnd()
  );
}

/** The report for a terminal: throughput, latency per endpoint, the conversations' fate, memory. */
export function formatReport(r: LoadReport): string {
  const out: string[] = [];
  out.push(
    `Load: ${r.clients} clients (${r.users} users), ${
      r.seconds.toFixed(0)
    } s measured after ${r.warmupSeconds} s of ` +
      `warm-up; ${Math.round(r.reviewShare * 100)} % review-queue GETs; generate ${
        r.wait === "parse" ? "waits for the parse" : "answers at once (Prefer: respond-async)"
      }`,
    "",
  );
  const rows = [["ENDPOINT", "REQUESTS", "REQ/S", "P50 MS", "P99 MS", "MAX MS", "ERRORS", "STATUSES"]];
  for (const e of r.endpoints) {
    rows.push([
      e.endpoint,
      String(e.requests),
      e.rps.toFixed(1),
      fmtMs(e.p50_ms),
      fmtMs(e.p99_ms),
      fmtMs(e.max_ms),
      String(e.errors),
      Object.entries(e.statuses).map(([s, n]) => `${s === "0" ? "no answer" : s}×${n}`).join(" "),
    ]);
  }
  out.push(...table(rows, ["l", "r", "r", "r", "r", "r", "r", "l"]).map((l) => `  ${l}`));
  out.push(`  total ${r.totalRps.toFixed(1)} req/s`, "");
  const c = r.conversations;
  out.push(
    `Conversations: ${c.accepted} accepted, ${c.rows} rows, ${c.rawObjects} raw objects; ${c.completed} completed, ` +
      `${c.inReview} in review, ${c.generationFailed} generation_failed, ${c.stuck} not terminal after a ` +
      `${c.drainSeconds.toFixed(0)} s drain`,
    `  ${r.completedPerSecond.toFixed(1)} completed/s during the run; request → completed p50 ${
      fmtMs(c.e2eP50Ms)
    } ms, p99 ${fmtMs(c.e2eP99Ms)} ms`,
    "",
  );
  const mem = [[
    "PROCESS",
    "PIDS",
    "START MB",
    "WARM MB",
    "END MB",
    "PEAK MB",
    "GROWTH MB",
    "TREND MB/MIN",
    "LATE TREND",
  ]];
  for (const m of r.memory) {
    mem.push([
      m.name,
      m.pids.join(","),
      mb(m.startKb),
      mb(m.warmKb),
      mb(m.endKb),
      mb(m.peakKb),
      signedMb(m.growthKb),
      signedMb(m.slopeKbPerMin),
      signedMb(m.lateSlopeKbPerMin),
    ]);
  }
  out.push(
    "Memory (VmRSS from /proc/<pid>/status; growth = end − warm; late trend = second half of the run)",
  );
  out.push(...table(mem, ["l", "l", "r", "r", "r", "r", "r", "r", "r"]).map((l) => `  ${l}`));
  const replaced = r.memory.filter((m) => m.pids.length > 1);
  if (replaced.length > 0) {
    out.push(
      `  replaced during the run: ${
        replaced.map((m) => m.name).join(", ")
      } (hot reload or exit; growth covers ` +
        `the last process)`,
    );
  }
  if (r.loadAverage !== null) out.push("", `Load average at the end: ${r.loadAverage.toFixed(2)}`);
  return out.join("\n");
}

/** The section body for docs/BENCHMARKS.md (## Load): the same figures as Markdown tables. */
export function formatMarkdown(r: LoadReport): string {
  const out: string[] = [];
  out.push(`${r.date}, ${r.machine}. Command: \`${r.command}\`.`, "");
  out.push("| endpoint | requests | req/s | p50 ms | p99 ms | max ms | errors |");
  out.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const e of r.endpoints) {
    out.push(
      `| ${e.endpoint} | ${e.requests} | ${e.rps.toFixed(1)} | ${fmtMs(e.p50_ms)} | ${fmtMs(e.p99_ms)} | ${
        fmtMs(e.max_ms)
      } | ${e.errors} |`,
    );
  }
  out.push(
    `| **total** | ${r.endpoints.reduce((s, e) => s + e.requests, 0)} | ${r.totalRps.toFixed(1)} | | | | ${
      r.endpoints.reduce((s, e) => s + e.errors, 0)
    } |`,
  );
  const c = r.conversations;
  out.push(
    "",
    `Conversations: ${c.accepted} accepted = ${c.rows} rows = ${c.rawObjects} raw objects; ${c.completed} completed, ` +
      `${c.inReview} in review, ${c.stuck} not terminal after the drain; ${
        r.completedPerSecond.toFixed(1)
      } ` +
      `completed/s; request → completed p50 ${fmtMs(c.e2eP50Ms)} ms, p99 ${fmtMs(c.e2eP99Ms)} ms.`,
    "",
    "| process | start MB | warm MB | end MB | peak MB | growth MB | trend MB/min | late trend MB/min |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const m of r.memory) {
    out.push(
      `| ${m.name}${m.pids.length > 1 ? " (replaced)" : ""} | ${mb(m.startKb)} | ${mb(m.warmKb)} | ${
        mb(m.endKb)
      } | ${mb(m.peakKb)} | ${signedMb(m.growthKb)} | ${signedMb(m.slopeKbPerMin)} | ${
        signedMb(m.lateSlopeKbPerMin)
      } |`,
    );
  }
  return out.join("\n");
}
