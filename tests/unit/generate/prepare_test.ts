/**
 * The phase before Claude (shared/generate/prepare.ts): it ends with the row `generating` or a replay, and what
 * it throws is the client's answer — an unavailable database (already translated by the adapter) a 503 to
 * retry, a client error the adapter mapped passed on as it is, a bug never disguised as either.
 */
import assert from "node:assert/strict";
import { AppError, appError } from "../../../shared/errors.ts";
import { type GenerateInput, prepare } from "../../../shared/generate/prepare.ts";
import { setLogSink } from "../../../shared/log.ts";
import { BODY, generateInput, type Harness, harness, timerOf, USER } from "./_fakes.ts";

setLogSink(() => {});

const body = BODY;
const input = (o: Partial<GenerateInput> = {}, raw: Record<string, unknown> = BODY) =>
  generateInput({ parseWaitMs: 0, ...o }, raw);

function run(h: Harness, i: GenerateInput) {
  return prepare(h.deps, i, timerOf(h));
}

Deno.test("prepare() inserts the row generating and hands on the prompt, max_tokens and warnings", async () => {
  const h = harness();
  const out = await run(h, await input({}, { ...body, max_tokens: 4096, temperature: 0.2 }));
  assert.equal(out.kind, "ready");
  if (out.kind !== "ready") return;
  const c = out.conversation;
  assert.equal(h.repo.rows.get(c.conversationId)?.processing_status, "generating");
  assert.equal(c.userId, USER);
  assert.equal(c.maxTokens, 4096);
  assert.match(c.prompt.prompt, /David Chen|Anxious Planner/);
  assert.deepEqual(c.warnings.map((w) => w.split(":")[0]), ["temperature is recorded but not sent"]);
  assert.equal(h.claude.requests.length, 0, "Claude is the next phase's");
});

Deno.test("prepare() replays the conversation an Idempotency-Key already names, without a new row", async () => {
  const h = harness();
  const first = await run(h, await input({ idempotencyKey: "k" }));
  const id = first.kind === "ready" ? first.conversation.conversationId : "none";
  Object.assign(h.repo.rows.get(id)!, { processing_status: "completed", turn_count: 8 });
  assert.deepEqual(await run(h, await input({ idempotencyKey: "k" })), {
    kind: "replayed",
    view: { conversation_id: id, processing_status: "completed", raw_response_path: null, turn_count: 8 },
  });
  assert.equal(h.repo.rows.size, 1);
});

Deno.test("prepare() answers 503 for the adapter's database_unavailable at any call before Claude", async () => {
  for (
    const method of ["findByIdempotencyKey", "userExists", "loadScaffolding", "insertGenerating"] as const
  ) {
    const h = harness();
    h.repo.down.add(method);
    const err = await run(h, await input({ idempotencyKey: "k", userMustExist: true })).catch((e) => e);
    assert.ok(err instanceof AppError && err.code === "upstream_unavailable", method);
  }
});

Deno.test("prepare() passes on a client error the adapter mapped, and a bug as it is (never a 503)", async () => {
  const h = harness();
  h.repo.insertGenerating = () => Promise.reject(appError("not_found", "a referenced row does not exist"));
  const mapped = await run(h, await input()).catch((e) => e);
  assert.ok(mapped instanceof AppError && mapped.code === "not_found");
  const bug = new TypeError("undefined is not a function");
  h.repo.insertGenerating = () => Promise.reject(bug);
  assert.equal(await run(h, await input()).catch((e) => e), bug);
});
