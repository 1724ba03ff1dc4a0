/**
 * The command-line contract every CLI of this project shares (cli/*.ts, local/stack.ts, local/main.ts, …):
 *
 *   --help / -h       the usage (the module's opening doc comment) on stdout, exit 0
 *   unknown option    one line on stderr (`<name>: unknown option '--x' (see --help)`), exit 2, no stack trace
 *   logs              stderr; tables and results: stdout (so `> file` and pipes get only the results)
 *
 * `parseCli()` wraps node:util's parseArgs (strict) with that contract; `usageOf()` is what --help prints.
 *
 * It lives in local/ (it was cli/_cli.ts) because local/, cli/ and bench/ all have commands: the rule of the
 * arrows is cli/ → local/ → shared/ (bench/ and tests/support/ may import local/ too), never back, so library
 * code any command needs lives in local/ and cli/ files are entry points only.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The exit status of a bad command line (2, like getopt-based tools), distinct from a failed run (1). */
export const EXIT_USAGE = 2;

/** The opening `/** … *\/` comment of a module, without its stars: the usage --help prints. */
export function usageOf(moduleUrl: string): string {
  let text = "";
  try {
    text = readFileSync(fileURLToPath(moduleUrl), "utf8");
  } catch {
    return "";
  }
  const m = /\/\*\*([\s\S]*?)\*\//.exec(text);
  if (!m) return "";
  return m[1].split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n").trim();
}

/** True when the arguments ask for help (before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** One line for a bad command line: parseArgs' message without its hints to the programmer. */
export function usageError(name: string, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `${name}: unknown option '${unknown[1]}' (see --help)`;
  return `${name}: ${msg.split("\n")[0].replace(/\. To specify a positional argument.*$/, "")} (see --help)`;
}

/** Where a command writes and how it exits: Deno's by default, a recorder in tests. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  exit: (code: number) => never;
}

const denoIo: CliIo = {
  out: (s) => console.log(s),
  err: (s) => console.error(s),
  exit: (code) => Deno.exit(code),
};

/**
 * parseArgs (strict) with the project's contract: --help prints `usage` (or the module's doc comment) and
 * exits 0; an unknown option or a missing value exits 2 with one line.
 */
export function parseCli<T extends ParseArgsConfig["options"]>(
  name: string,
  moduleUrl: string,
  options: T,
  opts: { args?: string[]; allowPositionals?: boolean; usage?: string; io?: CliIo } = {},
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean; strict: true }>> {
  const io = opts.io ?? denoIo;
  const args = opts.args ?? Deno.args;
  if (wantsHelp(args)) {
    io.out(opts.usage ?? usageOf(moduleUrl));
    return io.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals: opts.allowPositionals ?? false, strict: true });
  } catch (err) {
    io.err(usageError(name, err));
    return io.exit(EXIT_USAGE);
  }
}
