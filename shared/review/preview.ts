/**
 * What a parser would change for the conversations waiting in review, decided in memory: the stored raw object
 * of each candidate goes through a parser (normally this checkout's, possibly newer than the deployed one) and
 * the prediction is set beside the last recorded outcome. Pure: reading the objects and calling retry-all's
 * preview pages is cli/reparse.ts's job; nothing here writes anywhere.
 *
 * States read like the row would after a re-parse: `completed(<method>)` or `parse_failed(<error code>)`
 * (a `partial` result goes back to review, so it is `parse_failed(truncated_…)` too); the current state is the
 * row's status with the latest attempt's error code. A raw object that could not be read is `unreadable(<why>)`.
 *
 * called by: cli/reparse.ts (--dry-run); see docs/REVIEW.md "Previewing a parser upgrade".
 */
import type { ParseResult } from "../parse/mod.ts";
import type { PreviewItem } from "./retry_all.ts";

/** Why a raw object gave no bytes to parse. */
export type UnreadableReason = "not_found" | "unavailable" | "sha256_mismatch";

export type RawRead =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: UnreadableReason; readonly message: string };

/**
 * `recovered`: in review now, completed with the parser. `unchanged`: the same failure (same code).
 * `changed`: still a failure, another code (e.g. `invalid_json` → `truncated_content`). `unreadable`: no bytes.
 */
export type PreviewChange = "recovered" | "unchanged" | "changed" | "unreadable";

export const PREVIEW_CHANGES: readonly PreviewChange[] = ["recovered", "changed", "unchanged", "unreadable"];

export interface PreviewRow {
  readonly conversation_id: string;
  /** The parser version that wrote the current state (null when never parsed). */
  readonly parser_version: string | null;
  readonly current: string;
  readonly predicted: string;
  readonly change: PreviewChange;
  /** The predicted parse's fix codes, in order (empty when unreadable or none). */
  readonly fixes: readonly string[];
  /** Unreadable only: what the store said. */
  readonly message?: string;
}

export interface PreviewTally {
  readonly total: number;
  readonly by_change: Record<PreviewChange, number>;
  /** `current → predicted` (or `unchanged`) → how many. */
  readonly transitions: Record<string, number>;
}

/** The row as it is now: `<status>(<latest error code, else outcome, else none>)`, comparable with `predictedState`. */
export function currentState(item: PreviewItem): string {
  return `${item.processing_status}(${item.error_code ?? item.outcome ?? "none"})`;
}

/**
 * The row as a re-parse would leave it: `completed(<method>)`, or `parse_failed(<error code>)` for a failed
 * and for a partial result alike (a partial result goes back to review).
 */
export function predictedState(result: ParseResult): string {
  if (result.outcome === "parsed") return `completed(${result.method})`;
  return `parse_failed(${result.error.code})`;
}

/** One candidate's prediction from what reading its raw object gave and the parser to run on the bytes. */
export function predictItem(
  item: PreviewItem,
  read: RawRead,
  parse: (bytes: Uint8Array) => ParseResult,
): PreviewRow {
  const current = currentState(item);
  const base = { conversation_id: item.conversation_id, parser_version: item.parser_version, current };
  if (!read.ok) {
    return {
      ...base,
      predicted: `unreadable(${read.reason})`,
      change: "unreadable",
      fixes: [],
      message: read.message,
    };
  }
  const result = parse(read.bytes);
  const predicted = predictedState(result);
  const change: PreviewChange = result.outcome === "parsed"
    ? "recovered"
    : predicted === current
    ? "unchanged"
    : "changed";
  return { ...base, predicted, change, fixes: result.fixes.map((f) => f.code) };
}

/** How a row reads in the table's transition column. */
export function transition(row: PreviewRow): string {
  return row.change === "unchanged" ? `${row.current} unchanged` : `${row.current} → ${row.predicted}`;
}

/** A tally of nothing, with every change kind present at 0 (so the table always prints all four). */
export function emptyTally(): PreviewTally {
  return { total: 0, by_change: { recovered: 0, changed: 0, unchanged: 0, unreadable: 0 }, transitions: {} };
}

/** Adds rows to a tally (a new object; the CLI folds page after page). */
export function tallyPreview(rows: readonly PreviewRow[], into: PreviewTally = emptyTally()): PreviewTally {
  const byChange = { ...into.by_change };
  const transitions = { ...into.transitions };
  for (const row of rows) {
    byChange[row.change]++;
    const key = transition(row);
    transitions[key] = (transitions[key] ?? 0) + 1;
  }
  return { total: into.total + rows.length, by_change: byChange, transitions };
}

/** The table: one line per item, then the totals by change and by transition (most frequent first). */
export function formatPreview(
  rows: readonly PreviewRow[],
  tally: PreviewTally,
  parserVersion: string,
): string {
  const lines = [
    `preview with parser ${parserVersion} (raw objects read and parsed in memory; nothing written)`,
  ];
  for (const row of rows) {
    const why = row.message === undefined ? "" : `  (${row.message})`;
    lines.push(`  ${row.conversation_id}  ${row.change.padEnd(10)} ${transition(row)}${why}`);
  }
  lines.push(
    `  total ${tally.total}: ` + PREVIEW_CHANGES.map((c) => `${c} ${tally.by_change[c]}`).join(", "),
  );
  const sorted = Object.entries(tally.transitions).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  for (const [key, n] of sorted) lines.push(`    ${String(n).padStart(5)}  ${key}`);
  return lines.join("\n");
}
