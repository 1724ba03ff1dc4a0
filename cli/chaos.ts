/**
 * `deno task chaos [--runs N] [--generations 400] [--concurrency 12] [--spread-s 120] [--seed S] [--no-postgres]`
 *
 * The long seeded chaos run (docs/FAULTS.md "Chaos") against the running local stack (`deno task stack:start`):
 * N runs of 400 generations each, at concurrency 12, while random and overlapping faults hit them (a generate
 * worker killed during a Storage outage, during a PostgreSQL restart, mid-stream; Storage down/500/hang, pg_net
 * paused/dropping, a 529 storm, PostgreSQL restarted or crashed). After each run: heal, sweep, check every
 * invariant (tests/support/chaos.ts). Run k uses seed S + k (S random unless given, and printed), so any run
 * can be replayed with `--seed <its seed> --runs 1`. Exit 1 at the first run whose invariants do not hold.
 * Prints one JSON line per fault and per run, then a summary line.
 */
import { parseCli } from "../local/parse_cli.ts";
import { runChaos } from "../tests/support/chaos.ts";
import { closeSql } from "../tests/support/stack.ts";

const { values } = parseCli("chaos", import.meta.url, {
  runs: { type: "string", default: "1" },
  generations: { type: "string", default: "400" },
  concurrency: { type: "string", default: "12" },
  "spread-s": { type: "string", default: "120" },
  seed: { type: "string" },
  "no-postgres": { type: "boolean", default: false },
});

const runs = Number(values.runs);
const base = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
console.log(
  JSON.stringify({ chaos: "start", runs, seed: base, replay_one: `--seed <seed of the run> --runs 1` }),
);
const totals = {
  runs: 0,
  generations: 0,
  streams_sent: 0,
  answers_lost_recorded: 0,
  complete_answers_lost: 0,
  recovered_from_log: 0,
  closed_as_worker_lost: 0,
};
let exit = 0;
for (let k = 0; k < runs; k++) {
  const seed = base + k;
  try {
    const r = await runChaos({
      seed,
      generations: Number(values.generations),
      concurrency: Number(values.concurrency),
      spreadMs: Number(values["spread-s"]) * 1000,
      postgres: !values["no-postgres"],
    });
    totals.runs++;
    totals.generations += r.generations;
    totals.streams_sent += r.streams_sent;
    totals.answers_lost_recorded += r.answers_lost_recorded;
    totals.complete_answers_lost += r.complete_answers_lost;
    totals.recovered_from_log += r.recovered_from_log;
    totals.closed_as_worker_lost += r.closed_as_worker_lost;
  } catch (err) {
    console.error(
      JSON.stringify({ chaos: "failed", seed, error: String(err instanceof Error ? err.stack : err) }),
    );
    exit = 1;
    break;
  }
}
console.log(JSON.stringify({ chaos: "summary", ok: exit === 0, ...totals }));
await closeSql();
Deno.exit(exit);
