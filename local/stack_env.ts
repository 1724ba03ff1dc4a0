/**
 * `<stateDir>/stack.env.json`: the running local stack's URLs and keys, written by `deno task stack:start`
 * (local/stack.ts) and read by every command, benchmark and test that talks to the stack. The one reader:
 * the file is parsed against one zod schema here, so a stale or hand-edited file fails with the names of its
 * bad fields instead of an `undefined` URL three calls later.
 */
import { join } from "node:path";
import { z } from "zod";
import { stateDir } from "./paths.ts";

export const STACK_ENV_FILE = "stack.env.json";

export const stackEnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_ANON_KEY: z.string().min(1),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1),
  SUPABASE_DB_URL: z.string().min(1),
  SUPABASE_JWT_SECRET: z.string().min(32),
  ANTHROPIC_BASE_URL: z.url(),
  SUPABASE_PUBLISHABLE_KEY: z.string().min(1),
  SUPABASE_SECRET_KEY: z.string().min(1),
  /** The review console (absent in files written before it existed). */
  CONSOLE_URL: z.url().optional(),
});
export type StackEnv = z.infer<typeof stackEnvSchema>;

/** The file's path in a state folder (the dev stack's by default; the test stack passes its own). */
export function stackEnvPath(dir: string = stateDir()): string {
  return join(dir, STACK_ENV_FILE);
}

/**
 * The stack's settings. Throws an Error that says what to do when the file is missing (the stack was never
 * started in this state folder) and which fields are bad when it does not match the schema.
 */
export function readStackEnv(dir: string = stateDir()): StackEnv {
  const file = stackEnvPath(dir);
  let raw: unknown;
  try {
    raw = JSON.parse(Deno.readTextFileSync(file));
  } catch {
    throw new Error(
      `Cannot read the local stack's settings (${file}): start it with "deno task stack:start"`,
    );
  }
  const parsed = stackEnvSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `Cannot use ${file}: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")} invalid`,
    );
  }
  return parsed.data;
}

/** The stack's settings, or null when there is no usable file: for commands whose flags can name a target. */
export function tryReadStackEnv(dir: string = stateDir()): StackEnv | null {
  try {
    return readStackEnv(dir);
  } catch {
    return null;
  }
}

/** Writes the file (validated first, so the writer cannot produce what the readers refuse). */
export function writeStackEnv(env: StackEnv, dir: string = stateDir()): void {
  stackEnvSchema.parse(env);
  Deno.writeTextFileSync(stackEnvPath(dir), JSON.stringify(env, null, 2) + "\n");
}
