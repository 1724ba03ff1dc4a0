/**
 * The short seeded chaos run of the suite (docs/FAULTS.md "Chaos"): 60 generations at concurrency 8 over about
 * 20 s while faults hit them, overlapping ones first (a generate worker killed during a Storage outage, during a
 * PostgreSQL restart, mid-stream), then heal, sweep and check every invariant (tests/support/chaos.ts).
 *
 * The seed is printed; replay a run with CHAOS_SEED=<n>. The long run is `deno task chaos --runs N`.
 * With DATABASE_URL set (a database this suite does not own) it is skipped: it restarts PostgreSQL, and it ages
 * its rows with `session_replication_role` (a superuser setting) to run the abandoned-generation check.
 */
import { runChaos } from "../../support/chaos.ts";
import { stackTest } from "../../support/stack.ts";

const ownCluster = !Deno.env.get("DATABASE_URL");

(ownCluster ? stackTest : Deno.test.ignore)(
  "chaos (short): random and overlapping faults, then nothing stuck and nothing lost without a record",
  async () => {
    const seed = Number(Deno.env.get("CHAOS_SEED") ?? Math.floor(Math.random() * 2 ** 31));
    console.log(JSON.stringify({ chaos: "seed", seed, replay: `CHAOS_SEED=${seed}` }));
    await runChaos({
      seed,
      generations: Number(Deno.env.get("CHAOS_GENERATIONS") ?? 60),
      concurrency: 8,
      spreadMs: 20_000,
      postgres: true,
    });
  },
);
