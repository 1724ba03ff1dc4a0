/**
 * `deno task batch <submit|status|collect|cancel> [options]` — batch generation through the Message Batches API
 * (docs/BATCHES.md), against the local stack (stack.env.json) or SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY.
 *
 *   submit  --count N [--user-id UUID] [--idempotency-key K]
 *           one batch of N requests rotated over the seed scaffolding (as ./bin/start does); prints the batch id
 *   status  [BATCH_ID] [--user-id UUID]   one batch (state, counts per state), or the latest batches
 *   collect [BATCH_ID]                    one collector pass; with BATCH_ID, passes until it is collected
 *   cancel  BATCH_ID                      ask Anthropic to cancel it
 *
 * Options: --url URL, --service-key KEY (default: the local stack's), --json (the functions' JSON as it is).
 * Exit: 0 done, 1 a call failed, 2 a bad command line.
 */
import postgres from "postgres";
import {
  type BatchEndpoint,
  cancelBatch,
  collectOnce,
  collectUntilDone,
  readBatches,
  submitBatch,
} from "../local/batch_client.ts";
import { ensureDemoUser, loadScaffolding } from "../local/demo/run_demo.ts";
import { planDemo } from "../local/demo/plan.ts";
import { EXIT_USAGE, parseCli } from "../local/parse_cli.ts";
import { databaseUrl } from "../local/paths.ts";
import { tryReadStackEnv } from "../local/stack_env.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function line(b: Record<string, unknown>): string {
  const counts = Object.entries((b.conversation_counts ?? {}) as Record<string, number>)
    .map(([k, v]) => `${v} ${k}`).join(", ");
  return `${b.batch_id}  ${String(b.state).padEnd(14)} ${
    String(b.request_count).padStart(6)
  } requests  ${counts}` +
    (b.last_error ? `  (last error: ${b.last_error})` : "");
}

if (import.meta.main) {
  const { values, positionals } = parseCli("batch", import.meta.url, {
    count: { type: "string" },
    "user-id": { type: "string" },
    "idempotency-key": { type: "string" },
    url: { type: "string" },
    "service-key": { type: "string" },
    json: { type: "boolean", default: false },
  }, { allowPositionals: true });
  const [command, batchId, ...rest] = positionals;
  const usage = (msg: string) => {
    console.error(`batch: ${msg} (see --help)`);
    Deno.exit(EXIT_USAGE);
  };
  if (!["submit", "status", "collect", "cancel"].includes(command ?? "")) {
    usage("give a command: submit, status, collect or cancel");
  }
  if (rest.length > 0 || (batchId !== undefined && !UUID.test(batchId))) usage("a batch id must be one uuid");
  if (command === "cancel" && !batchId) usage("cancel needs a batch id");
  const userId = values["user-id"];
  if (userId !== undefined && !UUID.test(userId)) usage("--user-id must be a uuid");
  const count = values.count === undefined ? 10 : Number(values.count);
  if (!Number.isInteger(count) || count < 1 || count > 100_000) usage("--count must be 1 to 100000");

  const local = tryReadStackEnv();
  const ep: BatchEndpoint = {
    url: values.url ?? Deno.env.get("SUPABASE_URL") ?? local?.SUPABASE_URL ?? "",
    serviceKey: values["service-key"] ?? Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ??
      local?.SUPABASE_SERVICE_ROLE_KEY ?? "",
  };
  const print = (v: unknown, text: string) => console.log(values.json ? JSON.stringify(v, null, 2) : text);
  try {
    if (!ep.url || !ep.serviceKey) {
      throw new Error("Cannot call the functions: pass --url and --service-key (or start the local stack)");
    }
    if (command === "submit") {
      const sql = postgres(databaseUrl(), { prepare: false, max: 1, onnotice: () => {} });
      let user: string;
      let requests: unknown[];
      try {
        user = await ensureDemoUser(sql, userId?.toLowerCase() ?? null);
        const plan = planDemo(await loadScaffolding(sql), count, crypto.randomUUID().slice(0, 8));
        if (!plan.ok) throw new Error(plan.message);
        requests = plan.items.map((i) => i.body);
      } finally {
        await sql.end({ timeout: 2 });
      }
      const b = await submitBatch(ep, user, requests, values["idempotency-key"]);
      print(b, `batch ${b.batch_id} (${b.anthropic_batch_id}): ${b.request_count} requests, ${b.state}`);
    } else if (command === "status") {
      const batches = await readBatches(ep, userId ?? null, batchId ?? null);
      print(batchId ? batches[0] : batches, batches.map(line).join("\n") || "no batches");
    } else if (command === "collect") {
      if (batchId) {
        const b = await collectUntilDone(ep, batchId, { onRun: (x) => console.error(line(x)) });
        print(b, line(b));
      } else {
        const summary = await collectOnce(ep);
        print(summary, JSON.stringify(summary));
      }
    } else {
      const b = await cancelBatch(ep, userId ?? null, batchId!);
      print(b, line(b));
    }
  } catch (err) {
    console.error(`batch: ${err instanceof Error ? err.message : String(err)}`);
    Deno.exit(1);
  }
}
