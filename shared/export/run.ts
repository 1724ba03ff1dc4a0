/**
 * The export run (docs/EXPORT.md): pages of rows in keyset order → final files from Storage (bounded
 * concurrency) → one JSONL line each into `<file>.partial` → at the end, gzip if asked, rename, manifest.
 *
 * Nothing is half-written under a final name: data goes to `*.partial` files and a checkpoint
 * (`<base>.checkpoint.json`, rewritten atomically after every page) records the keyset cursor and the byte
 * length of every partial file. When Storage or the database fails midway the run stops with an
 * `ExportError` (`storage_unavailable` / `database_unavailable`) and leaves the partial files and the
 * checkpoint; `--resume` cuts the partial files back to the checkpoint's lengths and continues after its
 * cursor, so the finished export is byte-identical to one that never stopped.
 *
 * The database and Storage are ports (`ExportSource`), so the run is tested with in-memory fakes; local files
 * are written with Deno's file API.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import {
  type DownloadAnswer,
  downloadPage,
  exportPages,
  type ExportSource,
  RowsUnavailable,
} from "./pages.ts";
import { type ExportFilter, exportFilterSchema } from "./filter.ts";
import type { ExportFormat } from "./format.ts";
import {
  countExported,
  countSkipped,
  countsSchema,
  emptyCounts,
  type ExportCounts,
  type Manifest,
  MANIFEST_VERSION,
  manifestEntry,
  manifestEntrySchema,
  manifestSchema,
  type SkippedEntry,
  skippedEntrySchema,
  sortedCounts,
  type SplitSettings,
  splitSettingsSchema,
  type VerifyFinding,
  type VerifyReport,
} from "./manifest.ts";
import type { Cursor, ExportRow } from "./row.ts";
import { splitByCuts, splitHash, splitOf, stratumCuts } from "./split.ts";

export type { DownloadAnswer, ExportSource };

export type ExportErrorCode =
  | "storage_unavailable"
  | "database_unavailable"
  | "partial_export_exists"
  | "nothing_to_resume"
  | "resume_mismatch"
  | "invalid_manifest";

export class ExportError extends Error {
  constructor(readonly code: ExportErrorCode, message: string) {
    super(message);
    this.name = "ExportError";
  }
}

export interface ExportOptions {
  filter: ExportFilter;
  format: ExportFormat;
  /** Output base path: `<base>.jsonl` (or `<base>.<split>.jsonl`), `<base>.manifest.json`. */
  base: string;
  gzip: boolean;
  split: SplitSettings;
  resume: boolean;
  /** Rows per database page (default 500) and downloads in flight (default 16). */
  pageSize?: number;
  concurrency?: number;
  /** Tries per download when Storage is unavailable (default 3), and the wait before try n (ms × 2^(n-2)). */
  downloadTries?: number;
  retryDelayMs?: number;
  progress?: (done: number, total: number) => void;
}

export interface ExportResult {
  manifestPath: string;
  files: Manifest["files"];
  counts: ExportCounts;
  resumedFrom: number;
}

/** `x.jsonl`, `x.jsonl.gz` or `x` → `x`: the base the other names are made from. */
export function exportBase(out: string): string {
  return out.replace(/\.jsonl(\.gz)?$/, "").replace(/\.manifest\.json$/, "");
}

/** The manifest beside an export base: `<base>.manifest.json` (what `--verify` reads). */
export function manifestPathOf(base: string): string {
  return `${base}.manifest.json`;
}

function dataPath(base: string, split: string | null, gzip: boolean): string {
  return `${base}${split === null ? "" : `.${split}`}.jsonl${gzip ? ".gz" : ""}`;
}

const checkpointSchema = z.object({
  checkpoint_version: z.literal(1),
  format: z.string(),
  gzip: z.boolean(),
  filter: exportFilterSchema,
  split: splitSettingsSchema,
  cursor: z.object({ created_at: z.string(), conversation_id: z.string() }).nullable(),
  done: z.number(),
  /** Byte length of each partial file (data files by split name, "" without a split; "entries"). */
  sizes: z.record(z.string(), z.number()),
  counts: countsSchema,
});
type Checkpoint = z.infer<typeof checkpointSchema>;

function canonical(v: unknown): string {
  return JSON.stringify(v);
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path);
}

function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/** sha256 (hex) and size of a file, read in chunks (bounded memory). */
export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  using file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** sha256 (hex, lowercase) of bytes in memory: the `final_sha256` the manifest records for a final file. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Lines of a text file, read in chunks. */
async function* readLines(path: string): AsyncGenerator<string> {
  using file = await Deno.open(path, { read: true });
  let rest = "";
  for await (const text of file.readable.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let nl: number;
    while ((nl = rest.indexOf("\n")) !== -1) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== "") yield rest;
}

class Appender {
  readonly file: Deno.FsFile;
  size: number;
  private buf: Uint8Array[] = [];
  constructor(readonly path: string, truncateTo: number | null) {
    this.file = Deno.openSync(path, { write: true, create: true, truncate: truncateTo === null });
    if (truncateTo !== null) {
      const actual = this.file.statSync().size;
      if (actual < truncateTo) {
        throw new ExportError("resume_mismatch", `${path} is shorter than its checkpoint says: start again`);
      }
      this.file.truncateSync(truncateTo);
      this.file.seekSync(truncateTo, Deno.SeekMode.Start);
    }
    this.size = truncateTo ?? 0;
  }
  push(bytes: Uint8Array): void {
    this.buf.push(bytes);
    this.size += bytes.length;
  }
  flush(): void {
    for (const b of this.buf) {
      let off = 0;
      while (off < b.length) off += this.file.writeSync(b.subarray(off));
    }
    this.buf = [];
    this.file.syncDataSync();
  }
  close(): void {
    this.file.close();
  }
}

const encoder = new TextEncoder();

async function pageOf(src: ExportSource, filter: ExportFilter, after: Cursor | null, limit: number) {
  try {
    return await src.rows(filter, after, limit);
  } catch (err) {
    throw new ExportError(
      "database_unavailable",
      `Cannot read conversations from the database: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** Cut points per stratum for a stratified split: one pass over the selection's ids. */
async function stratifiedCuts(
  src: ExportSource,
  opts: ExportOptions,
  split: NonNullable<SplitSettings>,
  pageSize: number,
): Promise<Map<string, number[]>> {
  const hashes = new Map<string, number[]>();
  let after: Cursor | null = null;
  for (;;) {
    const rows = await pageOf(src, opts.filter, after, pageSize);
    for (const r of rows) {
      const key = stratumOf(split, r);
      const list = hashes.get(key) ?? [];
      list.push(splitHash(split.seed, r.conversation_id));
      hashes.set(key, list);
    }
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1];
    after = { created_at: last.created_at, conversation_id: last.conversation_id };
  }
  return new Map([...hashes].map(([k, h]) => [k, stratumCuts(split.parts, h)]));
}

function stratumOf(split: NonNullable<SplitSettings>, r: ExportRow): string {
  return (split.stratify === "topic" ? r.topic_key : r.persona_key) ?? "";
}

/**
 * One export from start to finish (or, with `resume`, from the checkpoint on). Throws `ExportError` with
 * `partial_export_exists` (a checkpoint is there and `resume` is false), `nothing_to_resume`, `resume_mismatch`
 * (the checkpoint selected another filter, format, gzip or split, or a partial file is shorter than recorded),
 * `database_unavailable` or `storage_unavailable` (after `downloadTries`; partial files and checkpoint are
 * kept for `--resume`). A final file that is missing, unparsable or not a valid chat is skipped with its
 * reason in the manifest, never an error. Nothing appears under a final name before the run is complete.
 */
export async function runExport(src: ExportSource, opts: ExportOptions): Promise<ExportResult> {
  const pageSize = opts.pageSize ?? 500;
  const concurrency = opts.concurrency ?? 16;
  const tries = opts.downloadTries ?? 3;
  const delayMs = opts.retryDelayMs ?? 500;
  const base = opts.base;
  const checkpointPath = `${base}.checkpoint.json`;
  const entriesPath = `${base}.entries.partial`;
  const splits: (string | null)[] = opts.split === null ? [null] : opts.split.parts.map((p) => p.name);
  const partialOf = (s: string | null) => `${dataPath(base, s, false)}.partial`;

  let checkpoint: Checkpoint | null = null;
  if (existsSync(checkpointPath)) {
    if (!opts.resume) {
      throw new ExportError(
        "partial_export_exists",
        `An unfinished export is at ${checkpointPath}: add --resume to continue it, or delete it to start again`,
      );
    }
    checkpoint = checkpointSchema.parse(JSON.parse(Deno.readTextFileSync(checkpointPath)));
    const same = checkpoint.format === opts.format && checkpoint.gzip === opts.gzip &&
      canonical(checkpoint.filter) === canonical(opts.filter) &&
      canonical(checkpoint.split) === canonical(opts.split);
    if (!same) {
      throw new ExportError(
        "resume_mismatch",
        `The unfinished export at ${checkpointPath} selected something else (filter, format, gzip or split differ)`,
      );
    }
  } else if (opts.resume) {
    throw new ExportError("nothing_to_resume", `No unfinished export at ${checkpointPath}`);
  }

  Deno.mkdirSync(dirname(base) || ".", { recursive: true });
  const total = await (async () => {
    try {
      return await src.count(opts.filter);
    } catch (err) {
      throw new ExportError(
        "database_unavailable",
        `Cannot count conversations: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  })();
  const cuts = opts.split?.stratify ? await stratifiedCuts(src, opts, opts.split, pageSize) : null;

  const outs = new Map<string | null, Appender>();
  for (const s of splits) {
    outs.set(s, new Appender(partialOf(s), checkpoint ? checkpoint.sizes[s ?? ""] ?? 0 : null));
  }
  const entries = new Appender(entriesPath, checkpoint ? checkpoint.sizes["entries"] ?? 0 : null);
  const counts: ExportCounts = checkpoint ? checkpoint.counts : emptyCounts();
  let cursor: Cursor | null = checkpoint?.cursor ?? null;
  let done = checkpoint?.done ?? 0;
  const resumedFrom = done;

  const saveCheckpoint = () => {
    const sizes: Record<string, number> = { entries: entries.size };
    for (const [s, a] of outs) sizes[s ?? ""] = a.size;
    const cp: Checkpoint = {
      checkpoint_version: 1,
      format: opts.format,
      gzip: opts.gzip,
      filter: opts.filter,
      split: opts.split,
      cursor,
      done,
      sizes,
      counts,
    };
    writeAtomic(checkpointPath, JSON.stringify(cp));
  };

  try {
    if (!checkpoint) saveCheckpoint();
    opts.progress?.(done, Math.max(total, done));
    const pages = exportPages(src, {
      filter: opts.filter,
      format: opts.format,
      after: cursor,
      pageSize,
      concurrency,
      tries,
      retryDelayMs: delayMs,
    });
    for (;;) {
      let page;
      try {
        const next = await pages.next();
        if (next.done) break;
        page = next.value;
      } catch (err) {
        if (!(err instanceof RowsUnavailable)) throw err;
        throw new ExportError(
          "database_unavailable",
          `Cannot read conversations from the database: ${err.message}; ${done} conversation(s) are kept in ` +
            `the partial export: run again with --resume to continue`,
        );
      }
      for (const o of page.outcomes) {
        const r = o.row;
        if (o.kind === "skipped") {
          countSkipped(counts, o.reason);
          const e: SkippedEntry = {
            conversation_id: r.conversation_id,
            file_path: r.file_path,
            reason: o.reason,
          };
          entries.push(encoder.encode(JSON.stringify({ skipped: e }) + "\n"));
        } else {
          const split = opts.split === null ? null : cuts
            ? splitByCuts(
              opts.split.parts,
              cuts.get(stratumOf(opts.split, r)) ?? [],
              splitHash(opts.split.seed, r.conversation_id),
            )
            : splitOf(opts.split.parts, splitHash(opts.split.seed, r.conversation_id));
          outs.get(split)!.push(encoder.encode(o.line + "\n"));
          countExported(counts, r, split);
          const e = manifestEntry(r, o.finalSha256, split);
          entries.push(encoder.encode(JSON.stringify({ entry: e }) + "\n"));
        }
        done++;
        cursor = { created_at: r.created_at, conversation_id: r.conversation_id };
      }
      for (const a of outs.values()) a.flush();
      entries.flush();
      saveCheckpoint();
      opts.progress?.(done, Math.max(total, done));
      if (page.unavailable !== null) {
        // Everything before this row is on disk and in the checkpoint: --resume starts here.
        throw new ExportError(
          "storage_unavailable",
          `Cannot read ${page.unavailable.row.file_path} from Storage after ${tries} tries ` +
            `(${page.unavailable.message}); ${done} conversation(s) are kept in the partial export: run again ` +
            `with --resume to continue`,
        );
      }
    }
  } finally {
    for (const a of outs.values()) a.close();
    entries.close();
  }

  // Finish: data files to their final names (gzip first if asked), then the manifest, then clean up.
  const fileInfos: Manifest["files"] = [];
  for (const s of splits) {
    const final = dataPath(base, s, opts.gzip);
    if (opts.gzip) {
      const tmp = `${final}.partial`;
      {
        using input = await Deno.open(partialOf(s), { read: true });
        using output = await Deno.open(tmp, { write: true, create: true, truncate: true });
        await input.readable.pipeThrough(new CompressionStream("gzip")).pipeTo(output.writable);
      }
      Deno.renameSync(tmp, final);
      Deno.removeSync(partialOf(s));
    } else {
      Deno.renameSync(partialOf(s), final);
    }
    const { sha256, bytes } = await fileSha256(final);
    fileInfos.push({
      name: basename(final),
      split: s,
      conversations: s === null ? counts.conversations : counts.by_split[s] ?? 0,
      bytes,
      sha256,
    });
  }
  const manifestPath = manifestPathOf(base);
  await writeManifest(manifestPath, entriesPath, {
    manifest_version: MANIFEST_VERSION,
    format: opts.format,
    gzip: opts.gzip,
    filter: opts.filter,
    split: opts.split,
    files: fileInfos,
    counts: sortedCounts(counts),
    parser_versions: Object.keys(counts.by_parser_version).sort(),
  });
  removeIfThere(entriesPath);
  removeIfThere(checkpointPath);
  return { manifestPath, files: fileInfos, counts: sortedCounts(counts), resumedFrom };
}

/** The manifest, streamed: the head, then the entries file's lines (two passes: exported, then skipped). */
async function writeManifest(
  path: string,
  entriesPath: string,
  head: Omit<Manifest, "conversations" | "skipped">,
): Promise<void> {
  const tmp = `${path}.partial`;
  {
    using out = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    const write = (s: string) => {
      const b = encoder.encode(s);
      let off = 0;
      while (off < b.length) off += out.writeSync(b.subarray(off));
    };
    const headText = JSON.stringify(head, null, 2);
    write(headText.slice(0, headText.lastIndexOf("}")).trimEnd() + ',\n  "conversations": [');
    for (const key of ["entry", "skipped"] as const) {
      let first = true;
      for await (const line of readLines(entriesPath)) {
        if (line === "") continue;
        const obj = JSON.parse(line) as Record<string, unknown>;
        if (!(key in obj)) continue;
        write(`${first ? "\n" : ",\n"}    ${JSON.stringify(obj[key])}`);
        first = false;
      }
      write(first ? "]" : "\n  ]");
      if (key === "entry") write(',\n  "skipped": [');
    }
    write("\n}\n");
  }
  Deno.renameSync(tmp, path);
}

/**
 * A manifest file, parsed and checked against `manifestSchema`. Throws `ExportError("invalid_manifest")` when
 * the file cannot be read, is not JSON or is not a manifest of this version (the first three bad paths named).
 */
export function readManifest(path: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Deno.readTextFileSync(path));
  } catch (err) {
    throw new ExportError(
      "invalid_manifest",
      `Cannot read ${path}: ${err instanceof Error ? err.message : err}`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ExportError(
      "invalid_manifest",
      `${path} is not an export manifest: ${
        parsed.error.issues.slice(0, 3).map((i) => i.path.join(".")).join(", ")
      }`,
    );
  }
  return parsed.data;
}

/**
 * `--verify`: every conversation's final file is read from Storage again and its sha256 compared with the
 * manifest's; each data file beside the manifest is hashed again too. Storage failing is reported as
 * `unreadable` (not as changed).
 */
export async function verifyExport(
  src: ExportSource,
  manifestPath: string,
  opts: { concurrency?: number; progress?: (done: number, total: number) => void } = {},
): Promise<VerifyReport> {
  const manifest = readManifest(manifestPath);
  const findings: VerifyFinding[] = [];
  for (const f of manifest.files) {
    const path = join(dirname(manifestPath), f.name);
    if (!existsSync(path)) {
      findings.push({ kind: "missing", what: "export_file", id: f.name, detail: `${path} is gone` });
      continue;
    }
    const got = await fileSha256(path);
    if (got.sha256 !== f.sha256) {
      findings.push({
        kind: "changed",
        what: "export_file",
        id: f.name,
        detail: `sha256 ${got.sha256}, manifest says ${f.sha256}`,
      });
    }
  }
  const list = manifest.conversations;
  let done = 0;
  const chunk = 200;
  for (let i = 0; i < list.length; i += chunk) {
    const part = list.slice(i, i + chunk);
    const answers = await downloadPage(src, part, {
      concurrency: opts.concurrency ?? 16,
      tries: 1,
      retryDelayMs: 0,
    });
    for (const [j, e] of part.entries()) {
      const a = answers[j];
      if (!a.ok && a.kind === "not_found") {
        findings.push({
          kind: "missing",
          what: "final_file",
          id: e.conversation_id,
          detail: `${e.file_path} is gone`,
        });
      } else if (!a.ok) {
        findings.push({ kind: "unreadable", what: "final_file", id: e.conversation_id, detail: a.message });
      } else {
        const sha = sha256Of(a.bytes);
        if (sha !== e.final_sha256) {
          findings.push({
            kind: "changed",
            what: "final_file",
            id: e.conversation_id,
            detail: `${e.file_path}: sha256 ${sha}, manifest says ${e.final_sha256}`,
          });
        }
      }
    }
    done += part.length;
    opts.progress?.(done, list.length);
  }
  return { checked: list.length, files_checked: manifest.files.length, findings };
}

export { manifestEntrySchema, skippedEntrySchema };
