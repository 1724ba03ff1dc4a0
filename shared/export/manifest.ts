/**
 * The manifest beside every export (docs/EXPORT.md): the selection, the counts, each conversation with the
 * sha256 of its raw object and of its final file, and each data file's own sha256. Deterministic: no clock
 * time, maps sorted by key, so two exports of the same selection give the same manifest too.
 */
import { z } from "zod";
import { exportFilterSchema } from "./filter.ts";
import { EXPORT_FORMATS } from "./format.ts";

export const MANIFEST_VERSION = 1;

export const manifestEntrySchema = z.object({
  conversation_id: z.string(),
  file_path: z.string(),
  storage_bucket: z.string(),
  raw_sha256: z.string().nullable(),
  final_sha256: z.string(),
  parser_version: z.string().nullable(),
  split: z.string().nullable(),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

export const skippedEntrySchema = z.object({
  conversation_id: z.string(),
  file_path: z.string().nullable(),
  reason: z.string(),
});
export type SkippedEntry = z.infer<typeof skippedEntrySchema>;

const countMap = z.record(z.string(), z.number());

export const countsSchema = z.object({
  conversations: z.number(),
  skipped: z.number(),
  by_method: countMap,
  by_source: countMap,
  by_model: countMap,
  by_parser_version: countMap,
  by_split: countMap,
  skipped_by_reason: countMap,
});
export type ExportCounts = z.infer<typeof countsSchema>;

export const splitSettingsSchema = z.object({
  parts: z.array(z.object({ name: z.string(), ratio: z.number() })),
  seed: z.number(),
  stratify: z.enum(["persona", "topic"]).nullable(),
}).nullable();
export type SplitSettings = z.infer<typeof splitSettingsSchema>;

export const manifestSchema = z.object({
  manifest_version: z.literal(MANIFEST_VERSION),
  format: z.enum(EXPORT_FORMATS),
  gzip: z.boolean(),
  filter: exportFilterSchema,
  split: splitSettingsSchema,
  files: z.array(z.object({
    name: z.string(),
    split: z.string().nullable(),
    conversations: z.number(),
    bytes: z.number(),
    sha256: z.string(),
  })),
  counts: countsSchema,
  parser_versions: z.array(z.string()),
  conversations: z.array(manifestEntrySchema),
  skipped: z.array(skippedEntrySchema),
});
export type Manifest = z.infer<typeof manifestSchema>;

/** Zeroed counters, a new object per call: one run's counts are never shared with another's. */
export function emptyCounts(): ExportCounts {
  return {
    conversations: 0,
    skipped: 0,
    by_method: {},
    by_source: {},
    by_model: {},
    by_parser_version: {},
    by_split: {},
    skipped_by_reason: {},
  };
}

function bump(m: Record<string, number>, key: string | null): void {
  const k = key ?? "(none)";
  m[k] = (m[k] ?? 0) + 1;
}

/**
 * Counts one exported conversation, in place. A null method, model or parser version is counted under
 * `(none)` so every map sums to `conversations`; `by_split` only when the export is split (`split` not null).
 */
export function countExported(
  c: ExportCounts,
  row: {
    parse_method_used: string | null;
    source: string;
    model: string | null;
    parser_version: string | null;
  },
  split: string | null,
): void {
  c.conversations++;
  bump(c.by_method, row.parse_method_used);
  bump(c.by_source, row.source);
  bump(c.by_model, row.model);
  bump(c.by_parser_version, row.parser_version);
  if (split !== null) bump(c.by_split, split);
}

/**
 * The manifest line of one exported conversation: the one place the CLI's files and the function's stream build
 * it, so both manifests say the same of the same row (a row without a bucket is in `conversation-files`).
 */
export function manifestEntry(
  row: {
    conversation_id: string;
    file_path: string | null;
    storage_bucket: string | null;
    raw_sha256: string | null;
    parser_version: string | null;
  },
  finalSha256: string,
  split: string | null,
): ManifestEntry {
  return {
    conversation_id: row.conversation_id,
    file_path: row.file_path!,
    storage_bucket: row.storage_bucket ?? "conversation-files",
    raw_sha256: row.raw_sha256,
    final_sha256: finalSha256,
    parser_version: row.parser_version,
    split,
  };
}

/** Counts one skipped conversation under its reason, in place (the manifest's `skipped_by_reason`). */
export function countSkipped(c: ExportCounts, reason: string): void {
  c.skipped++;
  bump(c.skipped_by_reason, reason);
}

function sortedMap(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The counts with every map sorted by key (insertion order would depend on the data's order). */
export function sortedCounts(c: ExportCounts): ExportCounts {
  return {
    conversations: c.conversations,
    skipped: c.skipped,
    by_method: sortedMap(c.by_method),
    by_source: sortedMap(c.by_source),
    by_model: sortedMap(c.by_model),
    by_parser_version: sortedMap(c.by_parser_version),
    by_split: sortedMap(c.by_split),
    skipped_by_reason: sortedMap(c.skipped_by_reason),
  };
}

/** What `--verify` found for one conversation or data file. */
export interface VerifyFinding {
  kind: "changed" | "missing" | "unreadable";
  what: "final_file" | "export_file";
  id: string;
  detail: string;
}

export interface VerifyReport {
  checked: number;
  files_checked: number;
  findings: VerifyFinding[];
}

/** Exit status of --verify: 0 nothing changed; 1 something changed or went missing. */
export function verifyExitCode(r: VerifyReport): number {
  return r.findings.length === 0 ? 0 : 1;
}
