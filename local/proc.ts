/** Child processes for the local tooling: capture output, fail with the command's own words. */
import { join } from "node:path";
import { TOOLS_BIN } from "./paths.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** Capture output instead of streaming it to the terminal. */
  quiet?: boolean;
  cwd?: string;
  stdin?: string;
}

export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = new Deno.Command(cmd, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: opts.quiet ? "piped" : "inherit",
    stderr: opts.quiet ? "piped" : "inherit",
  }).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: opts.quiet ? dec.decode(out.stdout) : "",
    stderr: opts.quiet ? dec.decode(out.stderr) : "",
  };
}

export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    const detail = (res.stderr || res.stdout).trim().split("\n").slice(-20).join("\n");
    throw new Error(`${cmd} ${args.slice(0, 3).join(" ")} exited ${res.code}${detail ? `:\n${detail}` : ""}`);
  }
  return res;
}

/** The pinned Supabase CLI from tools/, with telemetry off. */
export function supabaseCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return runOk(join(TOOLS_BIN, "supabase"), args, {
    quiet: true,
    ...opts,
    env: { DO_NOT_TRACK: "1", SUPABASE_TELEMETRY_DISABLED: "1", ...(opts.env ?? {}) },
  });
}
