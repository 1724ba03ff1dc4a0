import assert from "node:assert/strict";
import {
  formatMarkdown,
  formatReport,
  type LoadReport,
  memoryTrends,
  parseProcStatus,
  percentile,
  type Sample,
  slope,
  summarize,
} from "../../../bench/_load_report.ts";

Deno.test("percentile() is nearest-rank on a sorted list", () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("summarize() splits by endpoint, counts non-2xx and missing answers as errors", () => {
  const samples: Sample[] = [
    { endpoint: "generate", status: 201, ms: 100 },
    { endpoint: "generate", status: 201, ms: 300 },
    { endpoint: "generate", status: 503, ms: 50 },
    { endpoint: "generate", status: 0, ms: 60_000 },
    { endpoint: "review_list", status: 200, ms: 10 },
  ];
  const [g, l, i] = summarize(samples, 2);
  assert.equal(g.requests, 4);
  assert.equal(g.ok, 2);
  assert.equal(g.errors, 2);
  assert.deepEqual(g.statuses, { "201": 2, "503": 1, "0": 1 });
  assert.equal(g.rps, 2);
  assert.equal(g.p50_ms, 100);
  assert.equal(g.max_ms, 60_000);
  assert.equal(l.requests, 1);
  assert.equal(l.errors, 0);
  assert.equal(i.requests, 0);
  assert.ok(Number.isNaN(i.p50_ms));
});

Deno.test("slope() fits a line; flat and single points give 0", () => {
  assert.equal(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2);
  assert.equal(slope([{ x: 0, y: 4 }, { x: 1, y: 4 }]), 0);
  assert.equal(slope([{ x: 3, y: 9 }]), 0);
});

Deno.test("parseProcStatus() reads VmRSS and VmHWM in kB; a kernel thread has none", () => {
  const text = "Name:\tdeno\nVmPeak:\t 19000000 kB\nVmHWM:\t  250000 kB\nVmRSS:\t  210432 kB\nThreads:\t12\n";
  assert.deepEqual(parseProcStatus(text), { rssKb: 210432, hwmKb: 250000 });
  assert.equal(parseProcStatus("Name:\tkthreadd\nThreads:\t1\n"), null);
});

Deno.test("memoryTrends() measures growth from the warm sample, and a replaced worker from its new pid", () => {
  const t = memoryTrends([
    { t: 0, name: "gateway", pid: 10, rssKb: 100_000 },
    { t: 10, name: "gateway", pid: 10, rssKb: 150_000 },
    { t: 70, name: "gateway", pid: 10, rssKb: 151_000 },
    { t: 130, name: "gateway", pid: 10, rssKb: 152_000 },
    { t: 0, name: "worker:x", pid: 20, rssKb: 90_000 },
    { t: 40, name: "worker:x", pid: 21, rssKb: 60_000 },
    { t: 100, name: "worker:x", pid: 21, rssKb: 66_000 },
  ], 10);
  const g = t.find((m) => m.name === "gateway")!;
  assert.deepEqual(g.pids, [10]);
  assert.equal(g.startKb, 100_000);
  assert.equal(g.warmKb, 150_000, "warm-up growth is not counted");
  assert.equal(g.growthKb, 2_000);
  assert.equal(g.peakKb, 152_000);
  assert.ok(Math.abs(g.slopeKbPerMin! - 1_000) < 1e-6, String(g.slopeKbPerMin));
  assert.ok(
    Math.abs(g.lateSlopeKbPerMin! - 1_000) < 1e-6,
    "second half of the run: the samples at 70 s and 130 s",
  );
  const w = t.find((m) => m.name === "worker:x")!;
  assert.deepEqual(w.pids, [20, 21]);
  assert.equal(w.warmKb, 60_000, "the new process's first measured sample");
  assert.equal(w.growthKb, 6_000);
  assert.ok(Math.abs(w.slopeKbPerMin! - 6_000) < 1e-6, String(w.slopeKbPerMin));
  assert.equal(w.lateSlopeKbPerMin, null, "too few samples for a late trend");
});

const REPORT: LoadReport = {
  date: "2026-11-27",
  machine: "2 vCPU Test CPU, 24 GB RAM, Deno 2.9.6",
  command: "deno task bench:load --clients 50 --duration 180",
  clients: 50,
  users: 10,
  warmupSeconds: 10,
  seconds: 180,
  reviewShare: 0.2,
  wait: "parse",
  endpoints: summarize([{ endpoint: "generate", status: 201, ms: 650 }, {
    endpoint: "review_list",
    status: 200,
    ms: 20,
  }], 180),
  totalRps: 2 / 180,
  conversations: {
    accepted: 1,
    rows: 1,
    rawObjects: 1,
    completed: 1,
    inReview: 0,
    generationFailed: 0,
    stuck: 0,
    completedInWindow: 1,
    e2eP50Ms: 493,
    e2eP99Ms: 918,
    drainSeconds: 0.2,
  },
  completedPerSecond: 1 / 180,
  memory: memoryTrends([
    { t: 0, name: "gateway", pid: 10, rssKb: 102_400 },
    { t: 10, name: "gateway", pid: 10, rssKb: 204_800 },
    { t: 190, name: "gateway", pid: 10, rssKb: 209_920 },
  ], 10),
  loadAverage: 3.5,
};

Deno.test("formatReport() shows throughput, latency, the reconciliation and memory growth", () => {
  const text = formatReport(REPORT);
  assert.match(
    text,
    /^Load: 50 clients \(10 users\), 180 s measured after 10 s of warm-up; 20 % review-queue GETs/,
  );
  assert.match(text, /generate\s+1\s+0\.0\s+650\s+650\s+650\s+0\s+201×1/);
  assert.match(text, /Conversations: 1 accepted, 1 rows, 1 raw objects; 1 completed/);
  assert.match(text, /gateway\s+10\s+100\.0\s+200\.0\s+205\.0\s+205\.0\s+\+5\.0\s+\+1\.7/);
  assert.match(text, /Load average at the end: 3\.50/);
});

Deno.test("formatMarkdown() gives the BENCHMARKS.md tables with the date, machine and command", () => {
  const md = formatMarkdown(REPORT);
  assert.ok(
    md.startsWith(
      "2026-11-27, 2 vCPU Test CPU, 24 GB RAM, Deno 2.9.6. Command: `deno task bench:load --clients 50 --duration 180`.",
    ),
  );
  assert.ok(md.includes("| generate | 1 | 0.0 | 650 | 650 | 650 | 0 |"));
  assert.ok(md.includes("| gateway | 100.0 | 200.0 | 205.0 | 205.0 | +5.0 | +1.7 |"));
});
