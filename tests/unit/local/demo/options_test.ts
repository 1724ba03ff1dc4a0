import assert from "node:assert/strict";
import { parseDemoOptions } from "../../../../local/demo/options.ts";

Deno.test("parseDemoOptions() gives the documented defaults", () => {
  const r = parseDemoOptions([]);
  assert.ok(r.ok);
  assert.deepEqual(r.options, {
    count: 12,
    behavior: "mixed",
    behaviorGiven: false,
    concurrency: 4,
    batch: null,
    userId: null,
    timeoutMs: 300_000,
    timeoutGiven: false,
    demo: true,
    help: false,
  });
});

Deno.test("parseDemoOptions() reads every option", () => {
  const r = parseDemoOptions([
    "--count",
    "30",
    "--behavior",
    "slow:1500+fenced",
    "--concurrency",
    "8",
    "--user-id",
    "0F8FAD5B-D9CB-469F-A165-70867728950E",
    "--timeout",
    "60",
    "--no-demo",
  ]);
  assert.ok(r.ok);
  assert.equal(r.options.count, 30);
  assert.equal(r.options.behavior, "slow:1500+fenced");
  assert.equal(r.options.behaviorGiven, true);
  assert.equal(r.options.concurrency, 8);
  assert.equal(r.options.userId, "0f8fad5b-d9cb-469f-a165-70867728950e", "lower-cased like the database");
  assert.equal(r.options.timeoutMs, 60_000);
  assert.equal(r.options.timeoutGiven, true);
  assert.equal(r.options.demo, false);
});

Deno.test("parseDemoOptions() never runs more requests at once than there are conversations", () => {
  const r = parseDemoOptions(["--count", "2", "--concurrency", "10"]);
  assert.ok(r.ok);
  assert.equal(r.options.concurrency, 2);
});

Deno.test("parseDemoOptions() refuses bad values with a message naming the option", () => {
  const cases: [string[], RegExp][] = [
    [["--count", "0"], /--count must be at least 1/],
    [["--count", "201"], /--count must be at most 200/],
    [["--count", "1.5"], /--count must be a whole number/],
    [["--count=-3"], /--count must be a whole number/],
    [["--count", "-3"], /ambiguous/],
    [["--concurrency", "51"], /--concurrency must be at most 50/],
    [["--timeout", "5"], /--timeout must be at least 10/],
    [["--user-id", "test-user"], /--user-id must be a uuid/],
    [["--behavior", "nonsense"], /--behavior: Cannot read behaviour "nonsense"/],
    [["--behavior", "slow:x"], /--behavior: Cannot read behaviour "slow:x"/],
    [["--behavior", " "], /--behavior must not be empty/],
    [["--unknown"], /Unknown option '--unknown'/],
    [["extra"], /positional/i],
  ];
  for (const [args, message] of cases) {
    const r = parseDemoOptions(args);
    assert.equal(r.ok, false, args.join(" "));
    if (!r.ok) assert.match(r.message, message, args.join(" "));
  }
});

Deno.test("parseDemoOptions() reads --batch N (1-10000) for the Message Batches demo", () => {
  const r = parseDemoOptions(["--batch", "200"]);
  assert.ok(r.ok);
  assert.equal(r.options.batch, 200);
  assert.equal(parseDemoOptions(["--batch", "0"]).ok, false);
  assert.equal(parseDemoOptions(["--batch", "10001"]).ok, false);
});
