/**
 * The generate flow with fakes: the order of writes (row before Claude, metadata before the upload), and every
 * path that must not lose a response (spool, database down, both down), plus idempotency.
 */
import assert from "node:assert/strict";
import { AppError } from "../../../shared/errors.ts";
import { generateConversation, type GenerateInput } from "../../../shared/generate/generate.ts";
import { PhaseTimer } from "../../../shared/http/server_timing.ts";
import { setLogSink } from "../../../shared/log.ts";
import { WorkerLoad } from "../../../shared/generate/worker_load.ts";
import {
  answer,
  BODY,
  generateInput,
  type Harness,
  harness,
  OVERLOADED,
  PERSONA,
  TOPIC,
  USER,
} from "./_fakes.ts";

const logs: Array<Record<string, unknown>> = [];
setLogSink((line) => logs.push(JSON.parse(line)));

const body = BODY;
const input = generateInput;

function run(h: Harness, i: GenerateInput) {
  return generateConversation(h.deps, i, new PhaseTimer(() => h.clock.monotonic()));
}

Deno.test("generateConversation() writes the row, calls Claude, records metadata, uploads, then waits for the parse", async () => {
  const h = harness();
  logs.length = 0;
  const out = await run(h, await input());
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  const id = out.view.conversation_id;
  const path = `raw/${USER}/${id}.json`;
  assert.deepEqual(out.view, {
    conversation_id: id,
    processing_status: "completed",
    raw_response_path: path,
    parse_method_used: "direct",
    turn_count: 8,
  });
  assert.deepEqual(h.repo.calls.slice(0, 3), ["loadScaffolding", "insertGenerating", "writeAhead"]);
  const row = h.repo.rows.get(id)!;
  assert.equal(row.claude?.costUsd, 0.033);
  assert.equal(row.claude?.stopReason, "end_turn");
  const stored = h.store.objects.get(path)!;
  assert.equal(new TextDecoder().decode(stored), answer().body, "the body is stored byte for byte");
  assert.equal(row.raw_sha256, row.claude?.rawSha256);
  const lines = logs.map((l) => l.msg).filter(Boolean);
  assert.ok(lines.includes("[storeRawResponse] Storing raw response for conversation..."));
  assert.ok(lines.includes(`[storeRawResponse] ✅ Raw file uploaded to ${path}`));
  assert.equal(h.claude.requests[0].maxTokens, 24576);
  assert.equal(h.claude.requests[0].userId, USER);
});

Deno.test("generateConversation() records the sha256 before the upload starts", async () => {
  const h = harness();
  let shaAtUpload: string | null = null;
  const upload = h.store.upload.bind(h.store);
  h.store.upload = (path, bytes, opts) => {
    shaAtUpload = [...h.repo.rows.values()][0].raw_sha256;
    return upload(path, bytes, opts);
  };
  await run(h, await input());
  assert.match(shaAtUpload ?? "", /^[0-9a-f]{64}$/);
});

Deno.test("generateConversation() stops waiting for the parse at the budget", async () => {
  const h = harness();
  h.repo.onPoll = null; // the parse never finishes
  const out = await run(h, await input({ parseWaitMs: 1000 }));
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  assert.equal(out.view.processing_status, "raw_stored");
  assert.ok(h.clock.t >= 1000 && h.clock.t < 1300, `waited ${h.clock.t} ms`);
});

Deno.test("generateConversation() with a zero wait reads the state once", async () => {
  const h = harness();
  const out = await run(h, await input({ parseWaitMs: 0 }));
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_stored");
  assert.equal(h.repo.polls, 1);
});

Deno.test("generateConversation() answers 404 naming each missing scaffolding id, before any row or call", async () => {
  const h = harness();
  h.repo.scaffolding = { ...h.repo.scaffolding, persona: null, topic: null };
  const err = await run(h, await input()).catch((e) => e);
  assert.ok(err instanceof AppError && err.code === "not_found");
  assert.match(err.message, new RegExp(`persona_id ${PERSONA}.*training_topic_id ${TOPIC}`));
  assert.equal(h.repo.rows.size, 0);
  assert.equal(h.claude.requests.length, 0);
});

Deno.test("generateConversation() treats a malformed scaffolding row as a server fault, not a 400", async () => {
  const h = harness();
  h.repo.scaffolding = { ...h.repo.scaffolding, persona: { id: PERSONA, persona_key: "x" } };
  const err = await run(h, await input()).catch((e) => e);
  assert.ok(!(err instanceof AppError), "not mapped to a client error");
  assert.equal(err.name, "Error", "a ZodError would become a 400 invalid_body");
  assert.match(err.message, /personas row: unexpected shape at name, archetype/);
  assert.equal(h.repo.rows.size, 0);
});

Deno.test("generateConversation() answers 404 for an explicit template that does not exist", async () => {
  const h = harness();
  const err = await run(h, await input({}, { ...body, template_id: PERSONA })).catch((e) => e);
  assert.ok(err instanceof AppError && err.code === "not_found");
  assert.match(err.message, /template_id/);
});

Deno.test("generateConversation() answers 404 for an x-user-id that names no user", async () => {
  const h = harness();
  h.repo.users.clear();
  const err = await run(h, await input({ userMustExist: true })).catch((e) => e);
  assert.ok(err instanceof AppError && err.code === "not_found");
  assert.equal(h.repo.rows.size, 0);
});

Deno.test("generateConversation() answers 503 when the database is down before Claude (nothing to lose)", async () => {
  const h = harness();
  h.repo.down.add("insertGenerating");
  const err = await run(h, await input()).catch((e) => e);
  assert.ok(err instanceof AppError && err.code === "upstream_unavailable");
  assert.equal(h.claude.requests.length, 0);
});

Deno.test("generateConversation() marks the row generation_failed when Claude fails", async () => {
  const h = harness();
  h.claude.result = { ok: false, failure: OVERLOADED };
  const out = await run(h, await input());
  assert.equal(out.kind, "claude_failed");
  if (out.kind !== "claude_failed") return;
  const row = h.repo.rows.get(out.conversationId)!;
  assert.equal(row.processing_status, "generation_failed");
  assert.match(row.generation_error ?? "", /4 attempt\(s\): 529 overloaded_error/);
  assert.equal(row.generation_attempts, 4);
  assert.equal(h.store.uploads, 0);
});

Deno.test("generateConversation() spools the bytes and marks raw_spooled when Storage stays down", async () => {
  const h = harness();
  h.store.always = { ok: false, kind: "unavailable", message: "503 Service Unavailable" };
  const out = await run(h, await input());
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  assert.equal(out.view.processing_status, "raw_spooled");
  assert.equal(out.view.raw_response_path, null);
  assert.equal(h.store.uploads, 4, "1 attempt + 3 retries");
  assert.deepEqual(h.clock.sleeps, [200, 400, 800]);
  const spooled = h.repo.spool.get(out.view.conversation_id)!;
  assert.equal(new TextDecoder().decode(spooled.raw), answer().body);
  assert.equal(spooled.uploadAttempts, 4);
  assert.equal(spooled.lastError, "503 Service Unavailable");
  assert.equal(h.repo.rows.get(out.view.conversation_id)!.processing_status, "raw_spooled");
});

Deno.test("generateConversation() spools at once when Storage refuses the bytes (no retry can help)", async () => {
  const h = harness();
  h.store.always = {
    ok: false,
    kind: "rejected",
    status: "413",
    message: "The object exceeded the maximum allowed size",
  };
  const out = await run(h, await input());
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_spooled");
  assert.equal(h.store.uploads, 1);
});

Deno.test("generateConversation() treats a 409 with identical bytes as success (a retry that had landed)", async () => {
  const h = harness();
  h.deps.newId = () => "00000000-0000-4000-8000-00000000a409";
  const path = `raw/${USER}/00000000-0000-4000-8000-00000000a409.json`;
  h.store.objects.set(path, new TextEncoder().encode(answer().body));
  const out = await run(h, await input({ parseWaitMs: 0 }));
  assert.equal(out.kind, "created");
  assert.equal(h.repo.spool.size, 0);
});

Deno.test("generateConversation() never overwrites different bytes at its path: it spools instead", async () => {
  const h = harness();
  h.deps.newId = () => "00000000-0000-4000-8000-00000000b409";
  const path = `raw/${USER}/00000000-0000-4000-8000-00000000b409.json`;
  h.store.objects.set(path, new TextEncoder().encode('{"other":"bytes"}'));
  const out = await run(h, await input());
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_spooled");
  assert.equal(new TextDecoder().decode(h.store.objects.get(path)), '{"other":"bytes"}');
  assert.match(h.repo.spool.get("00000000-0000-4000-8000-00000000b409")!.lastError, /different object/);
});

Deno.test("generateConversation() still uploads when the database fails after Claude answered", async () => {
  const h = harness();
  h.repo.down.add("writeAhead");
  h.repo.down.add("readState");
  const out = await run(h, await input());
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  assert.equal(out.view.processing_status, "raw_stored");
  assert.ok(h.store.objects.has(`raw/${USER}/${out.view.conversation_id}.json`));
  assert.ok(out.view.warnings?.some((w) => /database was unavailable/.test(w)));
});

Deno.test("generateConversation() logs the body in chunks and answers unsaved when Storage and the database fail", async () => {
  const h = harness();
  const big = answer({
    body: JSON.stringify({ type: "message", content: [{ type: "text", text: "x".repeat(20_000) }] }),
  });
  h.claude.result = { ok: true, answer: big };
  h.store.always = { ok: false, kind: "unavailable", message: "down" };
  h.repo.down.add("writeAhead");
  h.repo.down.add("spoolRaw");
  logs.length = 0;
  const out = await run(h, await input());
  assert.equal(out.kind, "unsaved");
  const chunks = logs.filter((l) => l.event === "raw_response_unsaved");
  assert.equal(chunks.length, 3);
  assert.ok(chunks.every((c) => c.level === "error" && String(c.raw_body_chunk).length <= 8000));
  assert.equal(chunks.map((c) => c.raw_body_chunk).join(""), big.body, "the chunks reassemble to the body");
  assert.ok(chunks.every((c) => JSON.stringify(c).length < 10_000), "each log line fits Supabase's limit");
});

Deno.test("generateConversation() does not spool when the upload landed after all (the trigger moved the row)", async () => {
  const h = harness();
  h.store.always = { ok: false, kind: "unavailable", message: "timeout" };
  const spoolRaw = h.repo.spoolRaw.bind(h.repo);
  h.repo.spoolRaw = (i) => {
    h.repo.rows.get(i.conversationId)!.processing_status = "raw_stored";
    return spoolRaw(i);
  };
  const out = await run(h, await input({ parseWaitMs: 0 }));
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_stored");
  assert.equal(h.repo.spool.size, 0);
});

Deno.test("generateConversation() flags truncation for a cut stream and for stop_reason max_tokens", async () => {
  for (
    const a of [
      answer({ truncated: true, truncation: "stream_cut", stopReason: null }),
      answer({ stopReason: "max_tokens" }),
    ]
  ) {
    const h = harness();
    h.claude.result = { ok: true, answer: a };
    const out = await run(h, await input({ parseWaitMs: 0 }));
    assert.equal(out.kind, "created");
    if (out.kind !== "created") return;
    assert.equal(h.repo.rows.get(out.view.conversation_id)!.truncated, true);
    assert.equal(out.view.truncated, true);
  }
});

Deno.test("generateConversation() replays the same key and body, and refuses the same key with another body", async () => {
  const h = harness();
  const first = await run(h, await input({ idempotencyKey: "k1" }));
  assert.equal(first.kind, "created");
  const again = await run(h, await input({ idempotencyKey: "k1" }));
  assert.equal(again.kind, "replayed");
  if (first.kind !== "created" || again.kind !== "replayed") return;
  assert.equal(again.view.conversation_id, first.view.conversation_id);
  assert.equal(h.claude.requests.length, 1, "Claude was called once");
  const other = await run(h, await input({ idempotencyKey: "k1" }, { ...body, tier: "scenario" })).catch((
    e,
  ) => e);
  assert.ok(other instanceof AppError && other.code === "conflict");
  assert.equal(other.details?.conversation_id, first.view.conversation_id);
});

Deno.test("generateConversation() gives a concurrent duplicate the winner's row instead of a second call", async () => {
  const h = harness();
  // The key lookup misses (both requests checked before either inserted); the insert then finds the winner.
  const winner = await run(h, await input({ idempotencyKey: "race" }));
  h.repo.findByIdempotencyKey = () => Promise.resolve(null);
  const loser = await run(h, await input({ idempotencyKey: "race" }));
  assert.equal(loser.kind, "replayed");
  assert.equal(
    loser.kind === "replayed" && loser.view.conversation_id,
    winner.kind === "created" && winner.view.conversation_id,
  );
  assert.equal(h.claude.requests.length, 1);
});

Deno.test("generateConversation() keeps the requested temperature in the snapshot and says it was not sent", async () => {
  const h = harness();
  const out = await run(h, await input({ parseWaitMs: 0 }, { ...body, temperature: 0.3 }));
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  assert.equal(h.repo.rows.get(out.view.conversation_id)!.snapshot.requested_temperature, 0.3);
  assert.ok(out.view.warnings?.some((w) => w.startsWith("temperature is recorded but not sent")));
});

Deno.test("generateConversation() selects the template the repo found and records its id", async () => {
  const h = harness();
  h.repo.scaffolding = {
    ...h.repo.scaffolding,
    template: {
      id: "aaaaaaaa-0000-4000-8000-000000000009",
      template_text: "Hello {{persona_name}}",
      emotional_arc_type: "shame_to_acceptance",
      tier: "template",
    },
  };
  const out = await run(h, await input({ parseWaitMs: 0 }));
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  assert.equal(
    h.repo.rows.get(out.view.conversation_id)!.template_id,
    "aaaaaaaa-0000-4000-8000-000000000009",
  );
  assert.match(h.claude.requests[0].prompt, /^Hello David Chen/);
});

Deno.test("generateConversation() writes the answer ahead before the upload and drops the copy once it is stored", async () => {
  const h = harness();
  let copyAtUpload: { kind: string; sha: string; raw: Uint8Array } | undefined;
  const upload = h.store.upload.bind(h.store);
  h.store.upload = (path, bytes, opts) => {
    const id = /([0-9a-f-]{36})\.json$/.exec(path)![1];
    copyAtUpload = h.repo.writtenAhead.get(id);
    return upload(path, bytes, opts);
  };
  const out = await run(h, await input());
  assert.equal(out.kind, "created");
  if (out.kind !== "created") return;
  const row = h.repo.rows.get(out.view.conversation_id)!;
  assert.deepEqual(copyAtUpload, { kind: "write_ahead", sha: row.raw_sha256, raw: copyAtUpload?.raw });
  assert.equal(new TextDecoder().decode(copyAtUpload!.raw), answer().body, "the copy is the verbatim body");
  assert.equal(h.repo.writtenAhead.size, 0, "a stored answer leaves no copy behind");
  const calls = h.repo.calls;
  assert.ok(calls.indexOf("writeAhead") < calls.indexOf("dropWriteAhead"));
});

Deno.test("generateConversation() killed in the upload leaves the written-ahead bytes (the sweeper's flush stores them)", async () => {
  const h = harness();
  // The upload never returns: the worker is killed while it waits (Storage hanging, PostgreSQL restarting).
  h.store.upload = () => new Promise(() => {});
  const pending = run(h, await input());
  await new Promise((r) => setTimeout(r, 10));
  const [id, copy] = [...h.repo.writtenAhead.entries()][0];
  assert.equal(copy.kind, "write_ahead");
  assert.equal(new TextDecoder().decode(copy.raw), answer().body);
  assert.equal(h.repo.rows.get(id)!.raw_sha256, copy.sha, "the row's sha256 describes the durable copy");
  void pending;
});

Deno.test("generateConversation() answers raw_spooled, not unsaved, when the spool statement fails after a write-ahead", async () => {
  const h = harness();
  h.store.always = { ok: false, kind: "unavailable", message: "down" };
  h.repo.down.add("spoolRaw");
  logs.length = 0;
  const out = await run(h, await input());
  assert.equal(out.kind, "created");
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_spooled");
  assert.equal(
    logs.filter((l) => l.event === "raw_response_unsaved").length,
    0,
    "no body dumped to the logs",
  );
  assert.equal(h.repo.writtenAhead.size, 1, "the write-ahead copy is what holds it");
});

Deno.test("generateConversation() logs the in-memory window from the last stream event to the write-ahead", async () => {
  const h = harness();
  const generate = h.claude.generate.bind(h.claude);
  h.claude.generate = (req) => {
    req.onProgress?.({ receivedChars: 10, contentBegan: true, attempt: 1, snapshot: () => ({}) });
    h.clock.t += 2;
    return generate(req);
  };
  logs.length = 0;
  await run(h, await input());
  const line = logs.find((l) => l.event === "raw_written_ahead")!;
  assert.equal(line.written, true);
  assert.equal(line.memory_window_ms, 2, "from the last event (the fake clock moved 2 ms after it)");
});

Deno.test("generateConversation() retries a refused write-ahead beside the upload (PostgreSQL restarting)", async () => {
  const h = harness();
  h.store.always = { ok: false, kind: "unavailable", message: "down" };
  h.repo.down.add("spoolRaw");
  const writeAhead = h.repo.writeAhead.bind(h.repo);
  let calls = 0;
  h.repo.writeAhead = (i) => {
    calls++;
    if (calls === 1) {
      return Promise.reject(Object.assign(new Error("terminating connection"), { code: "57P01" }));
    }
    return writeAhead(i);
  };
  logs.length = 0;
  const out = await run(h, await input());
  assert.equal(out.kind, "created", "not unsaved: the retried write-ahead made the answer durable");
  assert.equal(out.kind === "created" && out.view.processing_status, "raw_spooled");
  assert.ok(calls >= 2);
  assert.equal(h.repo.writtenAhead.size, 1);
  assert.ok(logs.some((l) => l.event === "raw_written_ahead" && l.late === true && l.written === true));
  assert.equal(logs.filter((l) => l.event === "raw_response_unsaved").length, 0);
});

Deno.test("generateConversation() counts itself in the worker's load while it calls Claude and stores the answer", async () => {
  const h = harness();
  const load = new WorkerLoad();
  const seen: number[] = [];
  const generate = h.claude.generate.bind(h.claude);
  h.claude.generate = (req) => {
    seen.push(load.generations);
    return generate(req);
  };
  await generateConversation({ ...h.deps, load }, await input(), new PhaseTimer(() => h.clock.monotonic()));
  assert.deepEqual(seen, [1], "in while Claude answers");
  assert.equal(load.generations, 0, "out once the answer is stored");

  const failing = harness();
  failing.claude.result = { ok: false, failure: OVERLOADED };
  const failedLoad = new WorkerLoad();
  const out = await generateConversation(
    { ...failing.deps, load: failedLoad },
    await input(),
    new PhaseTimer(() => 0),
  );
  assert.equal(out.kind, "claude_failed");
  assert.equal(failedLoad.generations, 0, "out after a Claude failure too");
});
