/**
 * `deno task bench:export [--sizes 1000,10000] [--format messages] [--concurrency 16] [--heap-mb N]`
 *
 * Throughput and memory of `deno task export` on the running local stack (`deno task stack:start`): for each
 * size N, a fresh user gets N completed conversations (rows plus final files of about 1.5 KB, written through
 * the Storage API), then the export CLI runs as its own process on exactly that user (`--user`). Reports
 * conversations exported per second (wall clock of the process, start-up included) and the process's peak
 * resident memory (VmHWM from /proc, Linux), so sizes can be compared: memory must stay flat as N grows; and
 * the CPU seconds the export process itself used (what it would manage if Storage answered instantly).
 *
 * The CLI runs with the V8 flags of the `export` task in deno.json (`--optimize-for-size`: without it V8 lets
 * the heap grow lazily before collecting, so peak RSS rises with the run's length although nothing is retained).
 * `--heap-mb N` replaces them with a cap on V8's old space (`--max-old-space-size`): an export that finishes
 * under a small cap at every size retains nothing per conversation.
 *
 * Prints one JSON object; docs/BENCHMARKS.md "## Export" records the figures. Figures, not a test.
 */
import { join } from "node:path";
import { parseCli } from "../local/parse_cli.ts";
import { REPO_ROOT } from "../local/paths.ts";
import { mapLimit } from "../shared/parse_flow/_map_limit.ts";
import { closeSql, createTestUser } from "../tests/support/stack.ts";
import { completedRows } from "../tests/integration/export/_export.ts";

const { values } = parseCli("bench:export", import.meta.url, {
  sizes: { type: "string", default: "1000,10000" },
  format: { type: "string", default: "messages" },
  concurrency: { type: "string", default: "16" },
  "heap-mb": { type: "string" },
});
const sizes = values.sizes.split(",").map(Number);

/** The flags `deno task export` runs the CLI with (deno.json), so the bench measures what users run. */
function exportTaskFlags(): string[] {
  const deno = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json"))) as {
    tasks: Record<string, string>;
  };
  const words = deno.tasks.export.split(/\s+/);
  return words.slice(words.indexOf("run") + 1, words.indexOf("cli/export.ts")).filter((w) => w !== "-A");
}

async function seed(userId: string, n: number): Promise<number> {
  const started = performance.now();
  const chunk = 100;
  const chunks = Array.from({ length: Math.ceil(n / chunk) }, (_, i) => i * chunk);
  await mapLimit(chunks, 8, (offset) => completedRows(userId, Math.min(chunk, n - offset), offset));
  return (performance.now() - started) / 1000;
}

function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a running process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const results = [];
for (const n of sizes) {
  const user = await createTestUser();
  const seedSeconds = await seed(user.id, n);
  const dir = await Deno.makeTempDir();
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...exportTaskFlags().filter((f) => !(values["heap-mb"] && f.startsWith("--v8-flags"))),
      ...(values["heap-mb"] ? [`--v8-flags=--max-old-space-size=${Number(values["heap-mb"])}`] : []),
      join(REPO_ROOT, "cli/export.ts"),
      "--user",
      user.id,
      "--format",
      values.format,
      "--concurrency",
      values.concurrency,
      "--out",
      join(dir, "bench"),
      "--json",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let peak = 0;
  let cpu = 0;
  const poll = setInterval(() => {
    peak = Math.max(peak, peakRssMb(child.pid) ?? 0);
    cpu = Math.max(cpu, cpuSeconds(child.pid) ?? 0);
  }, 20);
  const out = await child.output();
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (out.code !== 0) throw new Error(`export exited ${out.code}`);
  const summary = JSON.parse(new TextDecoder().decode(out.stdout));
  results.push({
    conversations: summary.counts.conversations,
    seconds: Number(seconds.toFixed(2)),
    per_second: Math.round(summary.counts.conversations / seconds),
    peak_rss_mb: Number(peak.toFixed(1)),
    export_cpu_seconds: cpu,
    per_cpu_second: cpu > 0 ? Math.round(summary.counts.conversations / cpu) : null,
    file_mb: Number((summary.files[0].bytes / 1024 / 1024).toFixed(2)),
    seed_seconds: Number(seedSeconds.toFixed(1)),
  });
  await Deno.remove(dir, { recursive: true });
}
await closeSql();
console.log(
  JSON.stringify(
    {
      format: values.format,
      concurrency: Number(values.concurrency),
      heap_mb: values["heap-mb"] ? Number(values["heap-mb"]) : null,
      results,
    },
    null,
    2,
  ),
);
