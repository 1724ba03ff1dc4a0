/**
 * `deno task export --out PATH [--format messages|openai|record] [--gzip] [filters] [--split …] [--resume]`
 * `deno task export --verify MANIFEST`
 *
 * Completed conversations out as one JSONL training file (docs/EXPORT.md), with a manifest beside it:
 * `<out>.jsonl` (`.jsonl.gz` with --gzip; `<out>.<split>.jsonl` per split) and `<out>.manifest.json`. The same
 * selection gives byte-identical files. Nothing is half-written: data goes to `*.partial` files plus a
 * checkpoint and is renamed at the end; when Storage or the database fails midway, `--resume` continues.
 *
 *   --format F            messages (Messages API: system + alternating messages; default), openai (chat
 *                         fine-tuning lines), record (the full record: row metadata, provenance, final file)
 *   --gzip                gzip the data file(s)
 *   --status LIST         processing_status (default completed)
 *   --since ISO --until ISO   created_at in [since, until)
 *   --method LIST         only these parse methods; --exclude-method LIST never these (e.g. manual,jsonrepair)
 *   --source LIST|all     conversations.source (default generated: model output only, docs/SECURITY.md)
 *   --model LIST --persona LIST --arc LIST --topic LIST --parser-version LIST --user LIST
 *                         (LIST: comma-separated values; persona/arc/topic by key, user by uuid)
 *   --split SPEC          e.g. train=0.9,eval=0.1 (by conversation); --seed N (default 0);
 *                         --stratify persona|topic keeps each persona's (topic's) share in every split
 *   --resume              continue the unfinished export at --out (same options)
 *   --verify MANIFEST     re-read every final file from Storage (and the data files beside the manifest) and
 *                         report what changed or went missing; exit 1 when anything did
 *   --page-size N         rows per database page (default 500); --concurrency N downloads in flight (default 16)
 *   --db-url URL          the database (default DATABASE_URL, else the local stack)
 *   --json                the summary (or the verify report) as JSON on stdout
 *
 * Storage: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY when set, else the local stack's stack.env.json.
 * Progress: a bar on a terminal, one plain line per page otherwise (stderr). Exit status: 0 done; 1 the export
 * failed (the reason and what to do on one line) or --verify found changes; 2 bad arguments or no target.
 */
import { join } from "node:path";
import { z } from "zod";
import { parseCli } from "../local/parse_cli.ts";
import { progressBar } from "./reparse.ts";
import { stateDir } from "../local/paths.ts";
import { createSql } from "../shared/adapters/postgres_sql.ts";
import { postgresExportRows } from "../shared/adapters/postgres_export_rows.ts";
import { supabaseExportFiles } from "../shared/adapters/supabase_export_files.ts";
import { csvList, DEFAULT_FILTER, type ExportFilter } from "../shared/export/filter.ts";
import { EXPORT_FORMATS } from "../shared/export/format.ts";
import type { VerifyReport } from "../shared/export/manifest.ts";
import { CONVERSATION_SOURCES } from "../shared/provenance.ts";
import { exportBase, ExportError, runExport, verifyExport } from "../shared/export/run.ts";
import { parseSplit, SplitSpecError } from "../shared/export/split.ts";

const NAME = "export";

const listOrNull = (v: string | undefined) => (v === undefined ? null : csvList(v));

const argsSchema = z.object({
  out: z.string().min(1).optional(),
  format: z.enum(EXPORT_FORMATS).default("messages"),
  gzip: z.boolean().default(false),
  status: z.string().optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  method: z.string().optional(),
  "exclude-method": z.string().optional(),
  source: z.string().optional(),
  model: z.string().optional(),
  persona: z.string().optional(),
  arc: z.string().optional(),
  topic: z.string().optional(),
  "parser-version": z.string().optional(),
  user: z.string().regex(/^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/i, "comma-separated user uuids").optional(),
  split: z.string().optional(),
  seed: z.coerce.number().int().min(0).max(2 ** 31).default(0),
  stratify: z.enum(["persona", "topic"]).optional(),
  resume: z.boolean().default(false),
  verify: z.string().min(1).optional(),
  "page-size": z.coerce.number().int().min(1).max(5000).default(500),
  concurrency: z.coerce.number().int().min(1).max(64).default(16),
  "db-url": z.string().optional(),
  json: z.boolean().default(false),
});
type Args = z.infer<typeof argsSchema>;

export function filterFromArgs(a: Args): ExportFilter {
  let sources = DEFAULT_FILTER.sources;
  if (a.source !== undefined) {
    const list = csvList(a.source);
    if (list.includes("all")) sources = [...CONVERSATION_SOURCES].sort();
    else {
      const bad = list.filter((s) => !(CONVERSATION_SOURCES as readonly string[]).includes(s));
      if (bad.length > 0) {
        throw new Error(`--source: unknown source '${bad[0]}' (${CONVERSATION_SOURCES.join(", ")} or all)`);
      }
      sources = list as ExportFilter["sources"];
    }
  }
  return {
    statuses: a.status === undefined ? DEFAULT_FILTER.statuses : csvList(a.status),
    since: a.since ?? null,
    until: a.until ?? null,
    methods: listOrNull(a.method),
    exclude_methods: a["exclude-method"] === undefined ? [] : csvList(a["exclude-method"]),
    sources,
    models: listOrNull(a.model),
    personas: listOrNull(a.persona),
    arcs: listOrNull(a.arc),
    topics: listOrNull(a.topic),
    parser_versions: listOrNull(a["parser-version"]),
    users: listOrNull(a.user),
  };
}

const localEnvSchema = z.object({
  SUPABASE_URL: z.string(),
  SUPABASE_SERVICE_ROLE_KEY: z.string(),
  SUPABASE_DB_URL: z.string(),
});

function local(): z.infer<typeof localEnvSchema> | null {
  try {
    return localEnvSchema.parse(JSON.parse(Deno.readTextFileSync(join(stateDir(), "stack.env.json"))));
  } catch {
    return null;
  }
}

function formatVerify(r: VerifyReport): string {
  const lines = [`checked ${r.checked} conversation(s) and ${r.files_checked} export file(s)`];
  if (r.findings.length === 0) lines.push("nothing changed");
  for (const f of r.findings) lines.push(`  ${f.kind} ${f.what} ${f.id}: ${f.detail}`);
  return lines.join("\n");
}

function fail(why: string, code: number): never {
  console.error(`${NAME}: ${why}`);
  Deno.exit(code);
}

if (import.meta.main) {
  const parsed = parseCli(NAME, import.meta.url, {
    out: { type: "string" },
    format: { type: "string" },
    gzip: { type: "boolean" },
    status: { type: "string" },
    since: { type: "string" },
    until: { type: "string" },
    method: { type: "string" },
    "exclude-method": { type: "string" },
    source: { type: "string" },
    model: { type: "string" },
    persona: { type: "string" },
    arc: { type: "string" },
    topic: { type: "string" },
    "parser-version": { type: "string" },
    user: { type: "string" },
    split: { type: "string" },
    seed: { type: "string" },
    stratify: { type: "string" },
    resume: { type: "boolean" },
    verify: { type: "string" },
    "page-size": { type: "string" },
    concurrency: { type: "string" },
    "db-url": { type: "string" },
    json: { type: "boolean" },
  });
  const checked = argsSchema.safeParse(parsed.values);
  if (!checked.success) {
    fail(checked.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; "), 2);
  }
  const args = checked.data;
  let filter: ExportFilter;
  let split = null;
  try {
    filter = filterFromArgs(args);
    if (args.split !== undefined) {
      split = { parts: parseSplit(args.split), seed: args.seed, stratify: args.stratify ?? null };
    } else if (args.stratify !== undefined) throw new Error("--stratify needs --split");
  } catch (err) {
    fail(err instanceof SplitSpecError ? `--split: ${err.message}` : (err as Error).message, 2);
  }
  if (args.verify === undefined && args.out === undefined) {
    fail("--out PATH is required (or --verify MANIFEST)", 2);
  }

  const stack = local();
  const url = Deno.env.get("SUPABASE_URL") ?? stack?.SUPABASE_URL;
  const key = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY") ?? stack?.SUPABASE_SERVICE_ROLE_KEY;
  if (!url || !key) {
    fail("no Storage target: set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, or start the local stack", 2);
  }
  const storage = supabaseExportFiles(url, key);
  const encoder = new TextEncoder();
  const terminal = Deno.stderr.isTerminal();
  const progress = (label: string) => (done: number, total: number) => {
    if (terminal) Deno.stderr.writeSync(encoder.encode(`\r${label} ${progressBar(done, total)}\x1b[K`));
    else console.error(`${NAME}: ${label} ${done}/${total}`);
  };

  if (args.verify !== undefined) {
    try {
      const report = await verifyExport(
        { ...storage, rows: () => Promise.resolve([]), count: () => Promise.resolve(0) },
        args.verify,
        { concurrency: args.concurrency, progress: progress("verify") },
      );
      if (terminal) Deno.stderr.writeSync(encoder.encode("\n"));
      console.log(args.json ? JSON.stringify(report) : formatVerify(report));
      Deno.exit(report.findings.length === 0 ? 0 : 1);
    } catch (err) {
      fail(err instanceof ExportError ? `${err.code}: ${err.message}` : String(err), 1);
    }
  }

  const dbUrl = args["db-url"] ?? Deno.env.get("DATABASE_URL") ?? stack?.SUPABASE_DB_URL;
  if (!dbUrl) fail("no database: set DATABASE_URL or --db-url, or start the local stack", 2);
  const sql = createSql(dbUrl, { max: 2 });
  try {
    const result = await runExport({ ...postgresExportRows(sql), ...storage }, {
      filter,
      format: args.format,
      base: exportBase(args.out!),
      gzip: args.gzip,
      split,
      resume: args.resume,
      pageSize: args["page-size"],
      concurrency: args.concurrency,
      progress: progress("exported"),
    });
    if (terminal) Deno.stderr.writeSync(encoder.encode("\n"));
    if (args.json) console.log(JSON.stringify(result));
    else {
      for (const f of result.files) {
        console.log(`${f.name}: ${f.conversations} conversation(s), sha256 ${f.sha256}`);
      }
      console.log(`manifest: ${result.manifestPath}`);
      console.log(
        `exported ${result.counts.conversations}, skipped ${result.counts.skipped}` +
          (result.resumedFrom > 0 ? ` (resumed after ${result.resumedFrom})` : ""),
      );
    }
  } catch (err) {
    if (terminal) Deno.stderr.writeSync(encoder.encode("\n"));
    fail(err instanceof ExportError ? `${err.code}: ${err.message}` : String(err), 1);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
