/**
 * local/parse_cli.ts: the contract every command shares (--help → usage and exit 0; an unknown option → one
 * line on stderr and exit 2). tests/integration/cli/help_test.ts runs it on every task as a process; these
 * cases pin the pieces in process, with a recording CliIo.
 */
import assert from "node:assert/strict";
import {
  type CliIo,
  EXIT_USAGE,
  parseCli,
  usageError,
  usageOf,
  wantsHelp,
} from "../../../local/parse_cli.ts";

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function recorder(): CliIo & { outs: string[]; errs: string[] } {
  const outs: string[] = [];
  const errs: string[] = [];
  return {
    outs,
    errs,
    out: (s) => outs.push(s),
    err: (s) => errs.push(s),
    exit: (code) => {
      throw new Exit(code);
    },
  };
}

Deno.test("wantsHelp() sees --help and -h before `--` only", () => {
  assert.equal(wantsHelp(["--x", "--help"]), true);
  assert.equal(wantsHelp(["-h"]), true);
  assert.equal(wantsHelp(["--", "--help"]), false);
  assert.equal(wantsHelp(["--helpful"]), false);
});

Deno.test("usageOf() is the module's opening doc comment without its stars", () => {
  const usage = usageOf(new URL("../../../local/parse_cli.ts", import.meta.url).href);
  assert.match(usage, /^The command-line contract every CLI of this project shares/);
  assert.doesNotMatch(usage, /^\s*\*/m);
  assert.equal(usageOf("file:///no/such/module.ts"), "");
});

Deno.test("usageError() is one line naming the command and the unknown option", () => {
  assert.equal(
    usageError("token", new Error("Unknown option '--nope'. To specify a positional argument, use '--'")),
    "token: unknown option '--nope' (see --help)",
  );
  assert.equal(usageError("x", new Error("first line\nsecond")), "x: first line (see --help)");
});

Deno.test("parseCli() parses known options, prints usage for --help (exit 0), refuses unknown ones (exit 2)", () => {
  const opts = { n: { type: "string" } } as const;
  const ok = parseCli("t", import.meta.url, opts, { args: ["--n", "3"], io: recorder() });
  assert.equal(ok.values.n, "3");

  const help = recorder();
  assert.throws(() => parseCli("t", import.meta.url, opts, { args: ["--help"], usage: "USAGE", io: help }), {
    code: 0,
  });
  assert.deepEqual(help.outs, ["USAGE"]);

  const bad = recorder();
  assert.throws(() => parseCli("t", import.meta.url, opts, { args: ["--zz"], io: bad }), {
    code: EXIT_USAGE,
  });
  assert.deepEqual(bad.errs, ["t: unknown option '--zz' (see --help)"]);
  assert.deepEqual(bad.outs, []);
});
