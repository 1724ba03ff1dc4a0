/**
 * cli/reparse.ts's loop against a scripted retry-all: the dry run first, the cursor passed on, the counts summed,
 * a progress bar only on a terminal, and retries of a failing call.
 */
import assert from "node:assert/strict";
import {
  describeCounts,
  formatSummary,
  progressBar,
  type ReparseIo,
  type ReparseOptions,
  runReparse,
} from "../../../cli/reparse.ts";

const OPTIONS: ReparseOptions = {
  url: "http://api.test/",
  serviceKey: "service-key",
  since: null,
  dryRun: false,
  force: false,
  userId: null,
  limit: 2,
  batchSize: null,
};

function counts(byStatus: Record<string, number>, byMethod: Record<string, number> = {}) {
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return { total, by_status: byStatus, by_method: byMethod, by_outcome: {}, by_parser_version: {} };
}

function answer(over: Record<string, unknown>) {
  return {
    parser_version: "2026.11.1",
    dry_run: false,
    candidates: counts({ parse_failed: 3 }),
    processed: 0,
    before: counts({}),
    after: counts({}),
    results: {},
    remaining: 0,
    next_cursor: null,
    stopped: "done",
    ...over,
  };
}

function scripted(responses: (Response | Error)[]) {
  const requests: { url: string; body: Record<string, unknown>; auth: string | null }[] = [];
  let out = "";
  const io: ReparseIo = {
    fetch: (input, init) => {
      requests.push({
        url: String(input),
        body: JSON.parse(String(init?.body)),
        auth: new Headers(init?.headers).get("authorization"),
      });
      const next = responses.shift();
      if (!next) throw new Error("no more scripted responses");
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    write: (text) => (out += text),
    isTerminal: false,
    sleep: () => Promise.resolve(),
  };
  return { io, requests, output: () => out };
}

const ok = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });

Deno.test("runReparse() counts with a dry run, then follows the cursor until it is null", async () => {
  const s = scripted([
    ok(answer({ dry_run: true })),
    ok(answer({
      processed: 2,
      before: counts({ parse_failed: 2 }),
      after: counts({ completed: 2 }, { jsonrepair: 2 }),
      results: { completed: 2 },
      remaining: 1,
      next_cursor: "c1",
    })),
    ok(answer({
      processed: 1,
      before: counts({ parse_failed: 1 }),
      after: counts({ parse_failed: 1 }),
      results: { parse_failed: 1 },
    })),
  ]);
  const summary = await runReparse(OPTIONS, s.io);
  assert.equal(s.requests[0].url, "http://api.test/functions/v1/review-queue/retry-all");
  assert.equal(s.requests[0].auth, "Bearer service-key");
  assert.deepEqual(s.requests.map((r) => [r.body.dry_run ?? false, r.body.cursor ?? null]), [
    [true, null],
    [false, null],
    [false, "c1"],
  ]);
  assert.equal(summary.processed, 3);
  assert.equal(summary.calls, 2);
  assert.deepEqual(summary.after.by_status, { completed: 2, parse_failed: 1 });
  assert.deepEqual(summary.results, { completed: 2, parse_failed: 1 });
  assert.equal(
    s.output(),
    "reparse: call 1: 2/3 re-parsed (completed 2), 1 left\nreparse: call 2: 3/3 re-parsed (parse_failed 1), 0 left\n",
  );
  assert.match(formatSummary(summary), /after: {2}completed 2, parse_failed 1; method jsonrepair 2/);
});

Deno.test("runReparse() draws a progress bar with \\r on a terminal", async () => {
  const s = scripted([
    ok(answer({ dry_run: true, candidates: counts({ parse_failed: 1 }) })),
    ok(answer({ processed: 1, results: { completed: 1 } })),
  ]);
  await runReparse(OPTIONS, { ...s.io, isTerminal: true });
  assert.equal(s.output(), `\r[${"#".repeat(30)}] 1/1  completed 1\x1b[K\n`);
});

Deno.test("runReparse() --dry-run makes only the counting call", async () => {
  const s = scripted([ok(answer({ dry_run: true }))]);
  const summary = await runReparse(
    { ...OPTIONS, dryRun: true, since: "2025-11-01T00:00:00Z", force: true },
    s.io,
  );
  assert.equal(s.requests.length, 1);
  assert.deepEqual(s.requests[0].body, {
    force: true,
    since: "2025-11-01T00:00:00Z",
    limit: 2,
    dry_run: true,
  });
  assert.match(formatSummary(summary), /would re-parse 3 conversation\(s\)/);
});

Deno.test("runReparse() retries a 5xx or a network error, then continues", async () => {
  const s = scripted([
    ok(answer({ dry_run: true, candidates: counts({ parse_failed: 1 }) })),
    new Response('{"code":"WORKER_LIMIT"}', { status: 546 }),
    new TypeError("connection reset"),
    ok(answer({ processed: 1, results: { completed: 1 } })),
  ]);
  const summary = await runReparse(OPTIONS, s.io);
  assert.equal(summary.processed, 1);
  assert.equal(s.requests.length, 4);
});

Deno.test("runReparse() gives up on a 4xx at once with the server's message", async () => {
  const s = scripted([new Response('{"error":{"code":"forbidden"}}', { status: 403 })]);
  await assert.rejects(runReparse(OPTIONS, s.io), /HTTP 403: .*forbidden/);
  assert.equal(s.requests.length, 1);
});

Deno.test("runReparse() stops when a call moves nothing instead of looping on the same cursor", async () => {
  const s = scripted([
    ok(answer({ dry_run: true })),
    ok(answer({ processed: 0, next_cursor: "stuck", remaining: 3 })),
  ]);
  const summary = await runReparse(OPTIONS, s.io);
  assert.equal(summary.calls, 1);
});

Deno.test("describeCounts() and progressBar() format stably", () => {
  assert.equal(describeCounts({ parse_failed: 1, completed: 2, error: 0 }), "completed 2, parse_failed 1");
  assert.equal(describeCounts({}), "none");
  assert.equal(progressBar(1, 4, 8), "[##......] 1/4");
  assert.equal(progressBar(0, 0, 4), "[####] 0/0");
});

Deno.test("runReparse() --dry-run without --force says what it skips, why, and that --force exists", async () => {
  const s = scripted([
    ok(answer({ dry_run: true, candidates: counts({}) })),
    ok(answer({ dry_run: true, candidates: counts({ parse_failed: 1 }) })),
  ]);
  const summary = await runReparse({ ...OPTIONS, dryRun: true }, s.io);
  assert.deepEqual(s.requests.map((r) => [r.body.dry_run, r.body.force]), [[true, false], [true, true]]);
  assert.equal(summary.skipped_same_version, 1);
  const text = formatSummary(summary);
  assert.match(text, /would re-parse 0 conversation\(s\)/);
  assert.match(
    text,
    /skipped 1: parser version 2026\.11\.1 already failed on them, .*--force re-parses them/,
  );
});

Deno.test("runReparse() --dry-run with preview pages through the candidates, reads and parses each in memory", async () => {
  const { parseStoredResponse, PARSER_VERSION } = await import("../../../shared/parse/mod.ts");
  const { QUOTES_RAW, PROSE_RAW } = await import("./_world.ts");
  const enc = (s: string) => new TextEncoder().encode(s);
  const objects = new Map<string, Uint8Array>([["raw/a.json", enc(QUOTES_RAW)], [
    "raw/b.json",
    enc(PROSE_RAW),
  ]]);
  const entry = (id: string, path: string, version: string | null, code: string) => ({
    conversation_id: id,
    raw_response_path: path,
    raw_sha256: null,
    parser_version: version,
    processing_status: "parse_failed",
    outcome: "failed",
    method: null,
    error_code: code,
  });
  const s = scripted([
    ok(answer({ dry_run: true })),
    ok(answer({ dry_run: true })),
    ok(answer({
      dry_run: true,
      preview: [
        entry("a", "raw/a.json", "2025.11.0", "invalid_json"),
        entry("b", "raw/b.json", "2025.11.0", "no_json"),
      ],
      remaining: 2,
      next_cursor: "p1",
    })),
    ok(answer({
      dry_run: true,
      preview: [
        entry("c", "raw/gone.json", "2025.11.0", "no_json"),
        entry("d", "raw/b.json", PARSER_VERSION, "no_json"),
      ],
    })),
  ]);
  let inFlight = 0;
  let most = 0;
  const summary = await runReparse({ ...OPTIONS, dryRun: true }, {
    ...s.io,
    preview: {
      download: async (path) => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        const bytes = objects.get(path);
        return bytes === undefined ? { ok: false, kind: "not_found" } : { ok: true, bytes };
      },
      parse: parseStoredResponse,
      parserVersion: PARSER_VERSION,
      concurrency: 2,
    },
  });
  assert.deepEqual(s.requests.slice(2).map((r) => [r.body.preview, r.body.force, r.body.cursor ?? null]), [
    [true, true, null],
    [true, true, "p1"],
  ]);
  assert.ok(most <= 2, `at most 2 objects at a time, saw ${most}`);
  const p = summary.preview;
  assert.ok(p !== null);
  assert.deepEqual(p.items.map((i) => [i.conversation_id, i.change]), [
    ["a", "recovered"],
    ["b", "unchanged"],
    ["c", "unreadable"],
  ]);
  assert.equal(p.skipped_same_version, 1, "d was already failed by this checkout's parser version");
  assert.deepEqual(p.totals.by_change, { recovered: 1, changed: 0, unchanged: 1, unreadable: 1 });
  const text = formatSummary(summary);
  assert.match(text, /a {2}recovered {2}parse_failed\(invalid_json\) → completed\(/);
  assert.match(text, /c {2}unreadable parse_failed\(no_json\) → unreadable\(not_found\)/);
  assert.match(JSON.stringify(summary), /"change":"recovered"/);
});
