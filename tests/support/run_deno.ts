/**
 * One way for tests to run a command of this repository as a process (`deno run -A cli/…`, `deno task …`) and
 * read what it printed: the CLIs' contract (exit status, stdout for results, stderr for logs) is what the
 * tests assert, so it is read the same way everywhere.
 */
import { REPO_ROOT } from "../../local/paths.ts";

/** What a finished process left: its exit status and its two streams (decoded), and both together. */
export interface DenoRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout then stderr, for assertions that do not care which stream a line went to. */
  out: string;
}

/**
 * Runs `deno <args>` from the repository root with NO_COLOR=1 (plain text to match) plus `env`, waits for it
 * to exit and returns its output. The parent's environment is inherited unless `clearEnv` is set.
 */
export async function runDeno(
  args: readonly string[],
  opts: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string } = {},
): Promise<DenoRun> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: [...args],
    cwd: opts.cwd ?? REPO_ROOT,
    env: { NO_COLOR: "1", ...opts.env },
    clearEnv: opts.clearEnv ?? false,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stdout = dec.decode(res.stdout);
  const stderr = dec.decode(res.stderr);
  return { code: res.code, stdout, stderr, out: stdout + stderr };
}
