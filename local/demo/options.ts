/**
 * The main job's command line (`./bin/start` = `deno task start`): parsed with node:util (unknown flags are an
 * error, not ignored), then checked with zod so every limit is in one place.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { parseBehavior } from "../claude_standin/behavior.ts";

export const DEMO_USAGE = `usage: ./bin/start [options]     (same as: deno task start [options])

Starts the local stack, generates a demo batch through generate-conversation, waits for every conversation
to finish (completed, or parse_failed in the review queue), prints the results and the health summary, and
leaves the stack running.

  --count N          conversations to generate (1-200, default 12)
  --behavior NAME    the Claude stand-in's behaviour (default mixed; e.g. clean, fenced, truncated,
                     slow:1500+fenced; docs/LOCAL_STACK.md lists them). Ignored with ANTHROPIC_API_KEY set
  --batch N          generate N conversations (1-10000) as ONE Message Batch through generate-batch and the
                     collector instead (half price; docs/BATCHES.md); --count and --concurrency are ignored
  --concurrency N    requests in flight at once (1-50, default 4)
  --user-id UUID     generate as this existing auth.users row (default: the demo user demo@local.test)
  --timeout SECONDS  give up waiting after this long (10-3600; default 300, or 900 with the real API)
  --no-demo          only start the stack and print its URLs
  -h, --help         this text

With ANTHROPIC_API_KEY set the stack passes it to the functions, which then call the real API (billed).`;

const positiveInt = (min: number, max: number, name: string) =>
  z.string().trim().regex(/^\d+$/, `${name} must be a whole number`).transform(Number).pipe(
    z.number().int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`),
  );

const optionsSchema = z.object({
  count: positiveInt(1, 200, "--count").default(12),
  // Checked here, before the stack starts, with the stand-in's own parser (its message names the bad part).
  behavior: z.string().trim().min(1, "--behavior must not be empty").max(200).superRefine((v, ctx) => {
    try {
      parseBehavior(v);
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `--behavior: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }).default("mixed"),
  concurrency: positiveInt(1, 50, "--concurrency").default(4),
  batch: positiveInt(1, 10_000, "--batch").optional(),
  "user-id": z.string().trim().regex(
    /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    "--user-id must be a uuid",
  ).transform((s) => s.toLowerCase()).optional(),
  timeout: positiveInt(10, 3600, "--timeout").default(300),
  "no-demo": z.boolean().default(false),
  help: z.boolean().default(false),
});

export interface DemoOptions {
  count: number;
  behavior: string;
  /** True when --behavior was given (the default is not worth a warning when real Claude is used). */
  behaviorGiven: boolean;
  concurrency: number;
  /** `--batch N`: the demo goes through generate-batch as one Message Batch of N requests. */
  batch: number | null;
  userId: string | null;
  timeoutMs: number;
  /** True when --timeout was given (otherwise the real API gets a longer default: its calls take minutes). */
  timeoutGiven: boolean;
  demo: boolean;
  help: boolean;
}

export type OptionsResult = { ok: true; options: DemoOptions } | { ok: false; message: string };

/** Never throws: a bad command line is a message for the user (exit 2), not a stack trace. */
export function parseDemoOptions(args: string[]): OptionsResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        count: { type: "string" },
        behavior: { type: "string" },
        concurrency: { type: "string" },
        batch: { type: "string" },
        "user-id": { type: "string" },
        timeout: { type: "string" },
        "no-demo": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    return { ok: false, message: parsed.error.issues.map((i) => i.message).join("; ") };
  }
  const o = parsed.data;
  return {
    ok: true,
    options: {
      count: o.count,
      behavior: o.behavior,
      behaviorGiven: values.behavior !== undefined,
      concurrency: Math.min(o.concurrency, o.count),
      batch: o.batch ?? null,
      userId: o["user-id"] ?? null,
      timeoutMs: o.timeout * 1000,
      timeoutGiven: values.timeout !== undefined,
      demo: !o["no-demo"],
      help: o.help,
    },
  };
}
