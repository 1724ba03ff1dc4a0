/**
 * Which project the console talks to, from `--url`/`--anon-key` or, without them, the local stack's
 * stack.env.json (its API URL and anon key). Shared by `deno task console` and `deno task console:build`.
 */
import { type ConsoleConfig, consoleConfigSchema } from "./console_build.ts";
import { tryReadStackEnv } from "./stack_env.ts";

/** The config, or a one-line reason (the caller exits 2 with it). */
export function consoleTarget(
  flags: { url?: string; "anon-key"?: string },
): { ok: true; config: ConsoleConfig } | { ok: false; message: string } {
  if ((flags.url === undefined) !== (flags["anon-key"] === undefined)) {
    return { ok: false, message: "pass --url and --anon-key together (a hosted project's URL and anon key)" };
  }
  const local = flags.url === undefined ? tryReadStackEnv() : null;
  if (flags.url === undefined && local === null) {
    return {
      ok: false,
      message: "no local stack found: start it (deno task stack:start) or pass --url and --anon-key",
    };
  }
  const parsed = consoleConfigSchema.safeParse({
    supabaseUrl: flags.url ?? local?.SUPABASE_URL,
    anonKey: flags["anon-key"] ?? local?.SUPABASE_ANON_KEY,
  });
  if (!parsed.success) return { ok: false, message: `--url must be an http(s) URL` };
  return { ok: true, config: parsed.data };
}
