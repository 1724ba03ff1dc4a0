/**
 * The hosted Edge Functions environment, validated once at boot (a missing variable fails the worker's boot,
 * not the first request). SUPABASE_SECRET_KEYS / SUPABASE_PUBLISHABLE_KEYS are JSON objects keyed by key
 * name on hosted Supabase; the legacy SUPABASE_SERVICE_ROLE_KEY / SUPABASE_ANON_KEY may also be present.
 */
import { z } from "zod";

const keyMap = z.string().transform((s, ctx) => {
  try {
    const parsed = z.record(z.string(), z.string()).parse(JSON.parse(s));
    return parsed;
  } catch {
    ctx.addIssue({ code: "custom", message: "must be a JSON object of key name to key" });
    return z.NEVER;
  }
});

export const platformEnvSchema = z.object({
  SUPABASE_URL: z.url(),
  SUPABASE_DB_URL: z.string().min(1),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1).optional(),
  SUPABASE_SECRET_KEYS: keyMap.optional(),
  SUPABASE_ANON_KEY: z.string().min(1).optional(),
});

export interface PlatformEnv {
  supabaseUrl: string;
  dbUrl: string;
  /** The key used to call Storage and other functions as the service role. */
  serviceKey: string;
  /** Every key accepted as "the service role" on incoming requests (legacy JWT and sb_secret_ keys). */
  serviceKeys: string[];
}

export type EnvSource = { get(name: string): string | undefined };

/**
 * Reads the variables a schema names and validates them together: one `Cannot start: invalid environment (…)`
 * listing every problem, thrown at boot so a bad setting never reaches a request.
 */
export function schemaFromEnv<T extends z.ZodObject>(schema: T, env: EnvSource): z.infer<T> {
  const raw: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) raw[key] = env.get(key);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Cannot start: invalid environment (${problems})`);
  }
  return parsed.data;
}

/**
 * The platform's variables: the project URL (trailing slash removed), the database URL, the key used to call
 * Storage as the service role, and every key accepted as the service role on incoming requests (legacy JWT and
 * `sb_secret_` keys, deduplicated). Throws at boot when no service key is set.
 */
export function platformFromEnv(env: EnvSource): PlatformEnv {
  const e = schemaFromEnv(platformEnvSchema, env);
  const secrets = Object.values(e.SUPABASE_SECRET_KEYS ?? {});
  const serviceKey = e.SUPABASE_SERVICE_ROLE_KEY ?? e.SUPABASE_SECRET_KEYS?.default ?? secrets[0];
  if (!serviceKey) {
    throw new Error("Cannot start: set SUPABASE_SERVICE_ROLE_KEY or SUPABASE_SECRET_KEYS");
  }
  const serviceKeys = [
    ...new Set([serviceKey, ...secrets, e.SUPABASE_SERVICE_ROLE_KEY].filter((k): k is string => !!k)),
  ];
  return {
    supabaseUrl: e.SUPABASE_URL.replace(/\/$/, ""),
    dbUrl: e.SUPABASE_DB_URL,
    serviceKey,
    serviceKeys,
  };
}

/** Reads an optional positive number from the environment, with a documented default. */
export function numberFromEnv(env: EnvSource, name: string, fallback: number): number {
  const raw = env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`Cannot start: ${name} must be a non-negative number`);
  return n;
}
