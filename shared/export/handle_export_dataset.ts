/**
 * HTTP handler of `export-dataset`: the export for a service-role caller (the console, later), as a stream.
 * The same selection, formats and manifest as `deno task export` (docs/EXPORT.md, "The function route").
 *
 *   POST {"format"?, "gzip"?, "part"?: "data"|"manifest", "filter"?: {…}}
 *     part "data" (default)  200, the JSONL lines (application/x-ndjson; application/gzip with "gzip": true)
 *     part "manifest"        200, the manifest of the same selection (application/json); its files[0].sha256
 *                            is the sha256 of the bytes the data part sends, so a caller checks what it got
 *
 * Only the service key (401 without a key, 403 with any other token, a user's included: there is no reviewer
 * role yet). A bad body is 400 `invalid_body`; a database that is down before the first byte is 503
 * `upstream_unavailable`; a failure after the first byte breaks the stream (the client's read fails).
 *
 * called by: supabase/functions/export-dataset/index.ts
 * next: shared/export/stream.ts → pages.ts
 */
import { z } from "zod";
import { appError } from "../errors.ts";
import { requireServiceKey } from "../http/auth.ts";
import { readJsonBody, requireMethod } from "../http/request.ts";
import { CONVERSATION_SOURCES } from "../provenance.ts";
import { DEFAULT_FILTER, type ExportFilter } from "./filter.ts";
import { EXPORT_FORMATS } from "./format.ts";
import type { ExportSource } from "./pages.ts";
import {
  exportDataStream,
  exportManifestStream,
  ExportStreamError,
  streamFileName,
  type StreamOptions,
} from "./stream.ts";

export interface ExportDatasetDeps {
  source: ExportSource;
  serviceKeys: readonly string[];
  /** Rows per database page and downloads in flight (EXPORT_PAGE_SIZE, EXPORT_CONCURRENCY). */
  pageSize: number;
  concurrency: number;
}

/** Sorted, without duplicates: the same selection reads the same in the manifest (as the CLI's csvList). */
const list = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).min(1).transform((v) => [...new Set(v)].sort());

const filterSchema = z.strictObject({
  statuses: list(z.string().min(1)).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  methods: list(z.string().min(1)).optional(),
  exclude_methods: list(z.string().min(1)).optional(),
  sources: list(z.enum(CONVERSATION_SOURCES)).optional(),
  models: list(z.string().min(1)).optional(),
  personas: list(z.string().min(1)).optional(),
  arcs: list(z.string().min(1)).optional(),
  topics: list(z.string().min(1)).optional(),
  parser_versions: list(z.string().min(1)).optional(),
  users: list(z.uuid()).optional(),
});

/** The request body: every field optional; an empty body exports completed, generated conversations. */
export const exportDatasetRequestSchema = z.strictObject({
  format: z.enum(EXPORT_FORMATS).default("messages"),
  gzip: z.boolean().default(false),
  part: z.enum(["data", "manifest"]).default("data"),
  filter: filterSchema.default({}),
});

/** The request's filter with the CLI's defaults filled in (status completed, source generated). */
export function filterOf(f: z.infer<typeof filterSchema>): ExportFilter {
  return {
    statuses: f.statuses ?? DEFAULT_FILTER.statuses,
    since: f.since ?? null,
    until: f.until ?? null,
    methods: f.methods ?? null,
    exclude_methods: f.exclude_methods ?? [],
    sources: (f.sources ?? DEFAULT_FILTER.sources) as ExportFilter["sources"],
    models: f.models ?? null,
    personas: f.personas ?? null,
    arcs: f.arcs ?? null,
    topics: f.topics ?? null,
    parser_versions: f.parser_versions ?? null,
    users: f.users ?? null,
  };
}

/**
 * The HTTP handler: POST only (`method_not_allowed`), the service key only, then one stream. A failure before
 * the stream starts is an error answer; see the file's header for the parts and their content types.
 */
export function handleExportDataset(deps: ExportDatasetDeps) {
  return async (req: Request): Promise<Response> => {
    requireMethod(req, "POST");
    requireServiceKey(req, deps.serviceKeys);
    const body = await readJsonBody(req, exportDatasetRequestSchema, 64 * 1024, { optional: true });
    const opts: StreamOptions = {
      filter: filterOf(body.filter),
      format: body.format,
      gzip: body.gzip,
      pageSize: deps.pageSize,
      concurrency: deps.concurrency,
      tries: 3,
      retryDelayMs: 500,
    };
    try {
      if (body.part === "manifest") {
        return new Response(await exportManifestStream(deps.source, opts), {
          headers: {
            "content-type": "application/json; charset=utf-8",
            "content-disposition": 'attachment; filename="export.manifest.json"',
          },
        });
      }
      return new Response(await exportDataStream(deps.source, opts), {
        headers: {
          "content-type": body.gzip ? "application/gzip" : "application/x-ndjson; charset=utf-8",
          "content-disposition": `attachment; filename="${streamFileName(body.gzip)}"`,
        },
      });
    } catch (err) {
      if (err instanceof ExportStreamError) throw appError("upstream_unavailable", err.message);
      throw err;
    }
  };
}
