/** The worker's generation counter (shared/generate/worker_load.ts) the log-ahead reads. */
import assert from "node:assert/strict";
import { WorkerLoad } from "../../../shared/generate/worker_load.ts";

Deno.test("WorkerLoad counts generations in and out, each out once", () => {
  const load = new WorkerLoad();
  const a = load.enter();
  const b = load.enter();
  assert.equal(load.generations, 2);
  a();
  a();
  assert.equal(load.generations, 1, "a second leave of the same generation changes nothing");
  b();
  assert.equal(load.generations, 0);
});
