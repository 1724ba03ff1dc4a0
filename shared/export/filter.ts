/**
 * What an export selects. Written into the manifest as is, and into the checkpoint, so `--resume` refuses to
 * continue a run that selected something else.
 */
import { z } from "zod";
import { CONVERSATION_SOURCES } from "../provenance.ts";

export const exportFilterSchema = z.strictObject({
  /** processing_status values (default: completed). */
  statuses: z.array(z.string().min(1)).min(1),
  /** created_at >= since, < until (ISO 8601), null = unbounded. */
  since: z.string().nullable(),
  until: z.string().nullable(),
  /** parse_method_used: only these (null = any) / never these. */
  methods: z.array(z.string().min(1)).nullable(),
  exclude_methods: z.array(z.string().min(1)),
  /** conversations.source (default: generated only, docs/SECURITY.md "Provenance"). */
  sources: z.array(z.enum(CONVERSATION_SOURCES)).min(1),
  models: z.array(z.string().min(1)).nullable(),
  personas: z.array(z.string().min(1)).nullable(),
  arcs: z.array(z.string().min(1)).nullable(),
  topics: z.array(z.string().min(1)).nullable(),
  parser_versions: z.array(z.string().min(1)).nullable(),
  /** user_id: only these users (null = everyone). */
  users: z.array(z.uuid()).nullable(),
});
export type ExportFilter = z.infer<typeof exportFilterSchema>;

export const DEFAULT_FILTER: ExportFilter = {
  statuses: ["completed"],
  since: null,
  until: null,
  methods: null,
  exclude_methods: [],
  sources: ["generated"],
  models: null,
  personas: null,
  arcs: null,
  topics: null,
  parser_versions: null,
  users: null,
};

/** `a,b, c` → ["a","b","c"]: sorted and without duplicates, so the same selection always reads the same. */
export function csvList(value: string): string[] {
  return [...new Set(value.split(",").map((s) => s.trim()).filter((s) => s !== ""))].sort();
}
