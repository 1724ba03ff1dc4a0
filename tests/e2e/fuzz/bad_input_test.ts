/**
 * The bad-input suite (issue 9, part 4): every HTTP endpoint of every function gets FUZZ_CASES (default 1,000)
 * malformed requests from a seeded generator — random JSON, wrong types, bodies just over the limit and a few
 * megabytes long, unicode (lone surrogates, NUL, bidi marks), traversal-looking ids, forged and missing
 * credentials, content-type lies, Idempotency-Key and x-user-id abuse — sent FUZZ_CONCURRENCY (default 8) at a
 * time through the gateway. Every answer must be a 4xx JSON error (`{error: {code, message}}` with the code's own
 * status, or the platform's 401 for verify_jwt functions), never a 5xx, never a secret; and nothing may be
 * written: conversations, parse attempts, spool rows and storage objects naming any id the cases used, and the
 * alerts table, are fingerprinted before and after each endpoint's run.
 *
 * Replay a failure with the seed it prints: FUZZ_SEED=<seed> deno test -A tests/e2e/fuzz/ --filter "<endpoint>".
 * How cases are made: _cases.ts; why no well-formed request slips in: _local_oracle.ts. docs/SECURITY.md.
 */
import assert from "node:assert/strict";
import { fuzzSeed } from "../../support/fuzz.ts";
import { stackTest } from "../../support/stack.ts";
import { ENDPOINTS, type FuzzCase } from "./_cases.ts";
import { LocalOracle } from "./_local_oracle.ts";
import { buildCases, describeFailures, runCases } from "./_runner.ts";
import { createWorld, monitorCronRanSince, snapshotWrites, type World } from "./_world.ts";

const SEED = fuzzSeed();
const COUNT = Number(Deno.env.get("FUZZ_CASES") ?? 1000);
const CONCURRENCY = Number(Deno.env.get("FUZZ_CONCURRENCY") ?? 8);
console.log(`bad-input suite: FUZZ_SEED=${SEED}, ${COUNT} requests per endpoint, ${CONCURRENCY} at a time`);

let world: World | null = null;
async function theWorld(): Promise<World> {
  world ??= await createWorld();
  return world;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** Every uuid a case names anywhere (path, headers, body), plus the people: the rows that must not change. */
function idsOf(cases: readonly FuzzCase[], w: World): string[] {
  const ids = new Set<string>([w.userA, w.userB, w.itemB, w.ghostUser]);
  const dec = new TextDecoder();
  for (const c of cases) {
    const text = [
      c.tail, // percent-encoding leaves a uuid's characters alone
      ...Object.values(c.headers),
      typeof c.body === "string" ? c.body : c.body ? dec.decode(c.body) : "",
    ].join(" ");
    for (const m of text.matchAll(UUID)) ids.add(m[0].toLowerCase());
  }
  return [...ids];
}

for (const spec of ENDPOINTS) {
  stackTest(
    `bad input: ${spec.name} answers ${COUNT} malformed requests with 4xx JSON errors and writes nothing`,
    async () => {
      const w = await theWorld();
      const started = performance.now();
      const { cases, redrawn } = await buildCases(spec, w, new LocalOracle(w), SEED, COUNT);
      const ids = idsOf(cases, w);
      const windowStart = new Date();
      const before = await snapshotWrites(ids);
      const { failures, statuses } = await runCases(cases, w.secrets, CONCURRENCY);
      const after = await snapshotWrites(ids);
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `  ${spec.name}: ${cases.length} requests in ${secs}s (${redrawn} well-formed candidates redrawn), ` +
          `statuses ${JSON.stringify(statuses)}`,
      );

      assert.equal(cases.length, COUNT);
      assert.ok(failures.length === 0, describeFailures(SEED, spec, w, failures, cases.length));
      const changed = (Object.keys(before) as (keyof typeof before)[]).filter((k) => before[k] !== after[k]);
      const tolerated = changed.length === 1 && changed[0] === "alerts" &&
        await monitorCronRanSince(windowStart);
      assert.ok(
        changed.length === 0 || tolerated,
        `requests to ${spec.name} wrote ${changed.join(", ")} (seed ${SEED}): before ${
          JSON.stringify(before)
        }, after ${JSON.stringify(after)}`,
      );
    },
  );
}
