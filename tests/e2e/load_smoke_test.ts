/**
 * The load run (`deno task bench:load`, bench/load.ts) in miniature, so the script does not rot between the
 * occasions someone runs it for minutes: 5 clients for 5 seconds against the test stack, JSON report. Checks
 * that every endpoint was exercised without a server error, that nothing was lost (201 answers = rows = raw
 * objects, all terminal), and that memory was read for the gateway and the workers. The figures themselves
 * are not judged here (docs/BENCHMARKS.md, "Load").
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import { REPO_ROOT } from "../../local/paths.ts";
import { stackEnv, stackTest, standinAdmin } from "../support/stack.ts";

const endpoint = z.object({
  endpoint: z.enum(["generate", "review_list", "review_item"]),
  requests: z.number(),
  ok: z.number(),
  errors: z.number(),
  statuses: z.record(z.string(), z.number()),
  p50_ms: z.number(),
  p99_ms: z.number(),
});
const report = z.object({
  clients: z.number(),
  seconds: z.number(),
  endpoints: z.array(endpoint),
  totalRps: z.number(),
  conversations: z.object({
    accepted: z.number(),
    rows: z.number(),
    rawObjects: z.number(),
    completed: z.number(),
    stuck: z.number(),
  }),
  memory: z.array(z.object({ name: z.string(), pids: z.array(z.number()), endKb: z.number().nullable() })),
});

stackTest(
  "bench:load --clients 5 --duration 5: every endpoint answers, nothing is lost, memory is read",
  async () => {
    const behaviorBefore = await standinAdmin("behavior");
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(REPO_ROOT, "bench", "load.ts"),
        "--clients",
        "5",
        "--users",
        "3",
        "--duration",
        "5",
        "--warmup",
        "1",
        "--sample-every",
        "1",
        // Under a loaded machine a generate call can take seconds; a larger review share keeps every endpoint
        // exercised within the 5 s window (a run with no review_item request has no p50 to report).
        "--review-share",
        "0.6",
        "--drain",
        "30",
        "--json",
      ],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const r = report.parse(JSON.parse(stdout));

    assert.equal(r.clients, 5);
    for (const e of r.endpoints) {
      assert.ok(e.requests > 0, `${e.endpoint} was called`);
      assert.equal(e.errors, 0, `${e.endpoint}: ${JSON.stringify(e.statuses)}`);
      assert.ok(e.p50_ms > 0 && e.p99_ms >= e.p50_ms, `${e.endpoint} latencies`);
    }
    assert.ok(Math.abs(r.totalRps - r.endpoints.reduce((s, e) => s + e.requests, 0) / r.seconds) < 1e-9);

    const c = r.conversations;
    const generated = r.endpoints.find((e) => e.endpoint === "generate")!;
    assert.equal(c.accepted, generated.statuses["201"], "accepted = 201 answers");
    assert.equal(c.rows, c.accepted, "one row per accepted request");
    assert.equal(c.rawObjects, c.rows, "one raw object per row");
    assert.equal(c.stuck, 0, "every row terminal after the drain");
    assert.equal(c.completed, c.rows, "the clean stand-in answers all parse");

    const gateway = r.memory.find((m) => m.name === "gateway");
    const health = await (await fetch(`${stackEnv().SUPABASE_URL}/_internal/health`)).json();
    assert.ok(gateway && gateway.pids.includes(health.pid), "the gateway's own pid was sampled");
    assert.ok((gateway.endKb ?? 0) > 10_000, "a plausible RSS (kB)");
    for (const fn of ["generate-conversation", "review-queue"]) {
      assert.ok(
        r.memory.some((m) => m.name === `worker:${fn}` && (m.endKb ?? 0) > 0),
        `worker:${fn} sampled`,
      );
    }
    assert.deepEqual(await standinAdmin("behavior"), behaviorBefore, "the stand-in's default is restored");
  },
);
