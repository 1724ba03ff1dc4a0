/**
 * cli/parse.ts through a real process, as other tools use it. Needs --allow-run (tests run with -A).
 */
import assert from "node:assert/strict";
import { PARSER_VERSION } from "../../../shared/parse/mod.ts";
import { makeConversation, render, textResponse } from "../../fixtures/parse/samples.ts";

const CLI = new URL("../../../cli/parse.ts", import.meta.url).pathname;
const HAND = new URL("../../fixtures/parse/hand/", import.meta.url).pathname;

async function run(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    // The same permissions as `deno task parse`.
    args: ["run", "--allow-read", CLI, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

const conversation = makeConversation(31, { turns: 2 });
const clean = textResponse(render(conversation, true).text);

Deno.test("cli/parse.ts prints the full result for a file", async () => {
  const { code, stdout } = await run([`${HAND}alex_rivera_max_tokens.raw`]);
  assert.equal(code, 0);
  const result = JSON.parse(stdout);
  assert.equal(result.outcome, "partial");
  assert.equal(result.error.code, "truncated_output");
  assert.equal(result.parserVersion, PARSER_VERSION);
  assert.equal(result.conversation.turns.length, 3);
});

Deno.test("cli/parse.ts reads stdin for - and for no argument", async () => {
  for (const args of [["-"], []]) {
    const { code, stdout } = await run(args, clean);
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(stdout).conversation, conversation);
  }
});

Deno.test("cli/parse.ts --ndjson writes one line per request with the stable fields", async () => {
  const input = [
    JSON.stringify({ id: "a", raw: clean }),
    "",
    JSON.stringify({ id: 2, raw: "<html>502</html>" }),
    "not json",
    JSON.stringify({ id: "c" }),
    JSON.stringify({ id: "d", raw: JSON.parse(clean) }),
  ].join("\r\n");
  const { code, stdout } = await run(["--ndjson"], input);
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => Object.keys(line)),
    Array(5).fill(["id", "outcome", "method", "conversation", "error"]),
  );
  assert.deepEqual(lines.map((line) => [line.id, line.outcome, line.error?.code ?? null]), [
    ["a", "parsed", null],
    [2, "failed", "invalid_envelope"],
    [null, "failed", "invalid_input"],
    ["c", "failed", "invalid_input"],
    ["d", "parsed", null],
  ]);
  assert.deepEqual(lines[0].conversation, conversation);
  assert.equal(lines[2].error.message, "Cannot read line 4: the line is not JSON");
});

Deno.test("cli/parse.ts --ndjson reads a file too", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ndjson" });
  try {
    await Deno.writeTextFile(path, JSON.stringify({ id: "x", raw: clean }) + "\n");
    const { code, stdout } = await run(["--ndjson", path]);
    assert.equal(code, 0);
    assert.equal(JSON.parse(stdout).outcome, "parsed");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("cli/parse.ts exits 1 on an unreadable file and 2 on bad usage", async () => {
  const missing = await run(["/nonexistent/response.json"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot read input/);
  assert.equal((await run(["--bogus"])).code, 2);
  assert.equal((await run(["a.json", "b.json"])).code, 2);
});

Deno.test("cli/parse.ts --version and --help", async () => {
  assert.equal((await run(["--version"])).stdout, `${PARSER_VERSION}\n`);
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--ndjson/);
});
