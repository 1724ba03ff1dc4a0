/**
 * The export as streams, for the `export-dataset` function (shared/export/handle_export_dataset.ts): the same
 * page loop as `deno task export` (shared/export/pages.ts), the same lines and the same manifest shape, but
 * nothing written to disk. Two parts, each one pass over the selection:
 *
 *   data      the JSONL lines (gzip if asked), in the export's order
 *   manifest  the manifest (shared/export/manifest.ts `manifestSchema`), whose `files[0].sha256` is the sha256
 *             of exactly the bytes the data part sends for the same selection; `conversations` is streamed as
 *             it is read, `files` and `counts` come last (JSON key order carries no meaning)
 *
 * The first page is read before a stream is handed back, so a database that is down fails the request with
 * an error answer; a failure after that errors the stream (the client's read fails: a broken body, never a
 * complete-looking one). Memory: two pages of rows and one page of files, plus the skipped entries of the
 * manifest part (conversations whose final file is missing or invalid, held until the end).
 */
import { createHash } from "node:crypto";
import type { ExportFilter } from "./filter.ts";
import type { ExportFormat } from "./format.ts";
import {
  countExported,
  countSkipped,
  emptyCounts,
  type Manifest,
  MANIFEST_VERSION,
  manifestEntry,
  type SkippedEntry,
  sortedCounts,
} from "./manifest.ts";
import { exportPages, type ExportSource, type PageOutcome, RowsUnavailable } from "./pages.ts";

export interface StreamOptions {
  filter: ExportFilter;
  format: ExportFormat;
  gzip: boolean;
  pageSize: number;
  concurrency: number;
  tries: number;
  retryDelayMs: number;
}

/** Why a stream could not start (`database`) or stopped (`storage` / `database`), with the reason. */
export class ExportStreamError extends Error {
  constructor(readonly failed: "database" | "storage", message: string) {
    super(message);
    this.name = "ExportStreamError";
  }
}

/** The data file's name in a manifest made by the function: `export.jsonl` or `export.jsonl.gz`. */
export function streamFileName(gzip: boolean): string {
  return gzip ? "export.jsonl.gz" : "export.jsonl";
}

const encoder = new TextEncoder();

/** The pages, started: the first one read already (a database failure throws here, as ExportStreamError). */
async function startPages(src: ExportSource, o: StreamOptions) {
  const pages = exportPages(src, { ...o, after: null });
  const first = await nextPage(pages);
  return { pages, first };
}

async function nextPage(pages: AsyncGenerator<PageOutcome>): Promise<PageOutcome | null> {
  try {
    const n = await pages.next();
    return n.done ? null : n.value;
  } catch (err) {
    if (err instanceof RowsUnavailable) {
      throw new ExportStreamError("database", `Cannot read conversations from the database: ${err.message}`);
    }
    throw err;
  }
}

function storageFailed(page: PageOutcome): ExportStreamError | null {
  if (page.unavailable === null) return null;
  return new ExportStreamError(
    "storage",
    `Cannot read ${page.unavailable.row.file_path} from Storage (${page.unavailable.message})`,
  );
}

/** Every line of the selection as bytes (`line\n`), page by page; throws ExportStreamError midway. */
async function* lineBytes(first: PageOutcome | null, pages: AsyncGenerator<PageOutcome>) {
  for (let page = first; page !== null; page = await nextPage(pages)) {
    const lines = page.outcomes.flatMap((o) => (o.kind === "line" ? [o.line + "\n"] : []));
    if (lines.length > 0) yield { page, bytes: encoder.encode(lines.join("")) };
    else yield { page, bytes: null };
    const failed = storageFailed(page);
    if (failed) throw failed;
  }
}

/** Bytes through gzip when asked (the same CompressionStream as the CLI), else as they are. */
function maybeGzip(source: ReadableStream<Uint8Array>, gzip: boolean): ReadableStream<Uint8Array> {
  if (!gzip) return source;
  return source.pipeThrough(
    new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}

/** A stream pulling from an async generator; what the generator throws errors the stream. */
function fromGenerator(gen: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const n = await gen.next();
        if (n.done) controller.close();
        else controller.enqueue(n.value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await gen.return(undefined);
    },
  }, { highWaterMark: 0 });
}

/**
 * The data part: a stream of the selection's JSONL lines (gzip if `o.gzip`). Throws `ExportStreamError`
 * ("database") before returning when the first page cannot be read.
 */
export async function exportDataStream(
  src: ExportSource,
  o: StreamOptions,
): Promise<ReadableStream<Uint8Array>> {
  const { pages, first } = await startPages(src, o);
  async function* bytes() {
    for await (const { bytes } of lineBytes(first, pages)) if (bytes !== null) yield bytes;
  }
  return maybeGzip(fromGenerator(bytes()), o.gzip);
}

/**
 * The manifest part: the manifest of the same selection as a stream of JSON text. Its `files[0]` names
 * `streamFileName(gzip)` with the sha256 and size of what `exportDataStream` sends for the same options.
 */
export async function exportManifestStream(
  src: ExportSource,
  o: StreamOptions,
): Promise<ReadableStream<Uint8Array>> {
  const { pages, first } = await startPages(src, o);
  async function* text(): AsyncGenerator<Uint8Array> {
    const counts = emptyCounts();
    const skipped: SkippedEntry[] = [];
    const hash = createHash("sha256");
    let size = 0;
    // The data bytes go through the same gzip as the data part, into the hash only.
    const data = new TransformStream<Uint8Array, Uint8Array>();
    const writer = data.writable.getWriter();
    const hashed = (async () => {
      for await (const chunk of maybeGzip(data.readable, o.gzip)) {
        hash.update(chunk);
        size += chunk.length;
      }
    })();
    hashed.catch(() => {});
    const head = {
      manifest_version: MANIFEST_VERSION,
      format: o.format,
      gzip: o.gzip,
      filter: o.filter,
      split: null,
    };
    const headText = JSON.stringify(head, null, 2);
    yield encoder.encode(headText.slice(0, headText.lastIndexOf("}")).trimEnd() + ',\n  "conversations": [');
    let firstEntry = true;
    try {
      for await (const { page, bytes } of lineBytes(first, pages)) {
        if (bytes !== null) await writer.write(bytes);
        const out: string[] = [];
        for (const oc of page.outcomes) {
          const r = oc.row;
          if (oc.kind === "skipped") {
            countSkipped(counts, oc.reason);
            skipped.push({ conversation_id: r.conversation_id, file_path: r.file_path, reason: oc.reason });
            continue;
          }
          countExported(counts, r, null);
          const e = manifestEntry(r, oc.finalSha256, null);
          out.push(`${firstEntry ? "\n" : ",\n"}    ${JSON.stringify(e)}`);
          firstEntry = false;
        }
        if (out.length > 0) yield encoder.encode(out.join(""));
      }
    } catch (err) {
      await writer.abort(err).catch(() => {});
      throw err;
    }
    await writer.close();
    await hashed;
    const tail: Pick<Manifest, "skipped" | "files" | "counts" | "parser_versions"> = {
      skipped,
      files: [{
        name: streamFileName(o.gzip),
        split: null,
        conversations: counts.conversations,
        bytes: size,
        sha256: hash.digest("hex"),
      }],
      counts: sortedCounts(counts),
      parser_versions: Object.keys(counts.by_parser_version).sort(),
    };
    const tailText = JSON.stringify(tail, null, 2);
    yield encoder.encode(`${firstEntry ? "]" : "\n  ]"},\n  ${tailText.slice(1).trimStart()}\n`);
  }
  return fromGenerator(text());
}
