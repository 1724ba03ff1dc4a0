/**
 * shared/review/preview.ts: the dry run's prediction per item (current state against what a parser makes of the
 * stored bytes) and the totals, with the real parsers: the old one of the review fixtures and the current one.
 */
import assert from "node:assert/strict";
import { parseStoredResponse } from "../../../shared/parse/mod.ts";
import {
  currentState,
  formatPreview,
  predictItem,
  type PreviewRow,
  tallyPreview,
} from "../../../shared/review/preview.ts";
import type { PreviewItem } from "../../../shared/review/retry_all.ts";
import { OLD_VERSION, oldParser, PROSE_RAW, QUOTES_RAW, TRUNCATED_RAW } from "./_world.ts";

function item(over: Partial<PreviewItem> = {}): PreviewItem {
  return {
    conversation_id: "c0000000-0000-4000-8000-000000000001",
    raw_response_path: "raw/u/c.json",
    raw_sha256: null,
    parser_version: OLD_VERSION,
    processing_status: "parse_failed",
    outcome: "failed",
    method: null,
    error_code: "invalid_json",
    ...over,
  };
}

const bytes = (raw: string) => ({ ok: true as const, bytes: new TextEncoder().encode(raw) });

Deno.test("predictItem(): bytes the old parser failed and the current one parses are recovered", () => {
  const old = oldParser(QUOTES_RAW);
  assert.equal(old.outcome, "failed", "fixture: the old parser fails it");
  const row = predictItem(
    item({ error_code: old.error?.code ?? null }),
    bytes(QUOTES_RAW),
    parseStoredResponse,
  );
  assert.equal(row.change, "recovered");
  assert.equal(row.current, `parse_failed(${old.error?.code})`);
  assert.match(row.predicted, /^completed\((direct|extracted|jsonrepair)\)$/);
  assert.ok(row.fixes.length > 0, "a recovery names its fixes");
});

Deno.test("predictItem(): the same failure is unchanged, another code is changed", () => {
  const prose = parseStoredResponse(PROSE_RAW);
  assert.equal(prose.outcome, "failed");
  const same = predictItem(
    item({ error_code: prose.error?.code ?? null }),
    bytes(PROSE_RAW),
    parseStoredResponse,
  );
  assert.equal(same.change, "unchanged");
  assert.equal(same.predicted, same.current);

  const cut = parseStoredResponse(TRUNCATED_RAW);
  assert.notEqual(cut.outcome, "parsed");
  const other = predictItem(item({ error_code: "no_json" }), bytes(TRUNCATED_RAW), parseStoredResponse);
  assert.equal(other.change, "changed");
  assert.equal(other.predicted, `parse_failed(${cut.error?.code})`);
});

Deno.test("predictItem(): an unreadable raw object is reported, the parser is not called", () => {
  const row = predictItem(
    item(),
    { ok: false, reason: "not_found", message: "no object at raw/u/c.json" },
    () => {
      throw new Error("must not parse");
    },
  );
  assert.deepEqual([row.change, row.predicted, row.message], [
    "unreadable",
    "unreadable(not_found)",
    "no object at raw/u/c.json",
  ]);
});

Deno.test("currentState() falls back to the outcome, then none", () => {
  assert.equal(currentState(item({ error_code: null, outcome: "error" })), "parse_failed(error)");
  assert.equal(currentState(item({ error_code: null, outcome: null })), "parse_failed(none)");
});

Deno.test("tallyPreview() counts by change and by transition across pages; formatPreview() lists both", () => {
  const r = (change: PreviewRow["change"], current: string, predicted: string): PreviewRow => ({
    conversation_id: crypto.randomUUID(),
    parser_version: OLD_VERSION,
    current,
    predicted,
    change,
    fixes: [],
  });
  const page1 = [
    r("recovered", "parse_failed(invalid_json)", "completed(jsonrepair)"),
    r("unchanged", "parse_failed(no_json)", "parse_failed(no_json)"),
  ];
  const page2 = [
    r("recovered", "parse_failed(invalid_json)", "completed(jsonrepair)"),
    r("unreadable", "parse_failed(no_json)", "unreadable(not_found)"),
  ];
  const tally = tallyPreview(page2, tallyPreview(page1));
  assert.equal(tally.total, 4);
  assert.deepEqual(tally.by_change, { recovered: 2, changed: 0, unchanged: 1, unreadable: 1 });
  assert.deepEqual(tally.transitions, {
    "parse_failed(invalid_json) → completed(jsonrepair)": 2,
    "parse_failed(no_json) unchanged": 1,
    "parse_failed(no_json) → unreadable(not_found)": 1,
  });
  const text = formatPreview([...page1, ...page2], tally, "2026.12.2");
  assert.match(text, /total 4: recovered 2, changed 0, unchanged 1, unreadable 1/);
  assert.match(text, /\n\s+2 {2}parse_failed\(invalid_json\) → completed\(jsonrepair\)\n/);
  assert.match(
    text,
    new RegExp(`${page1[1].conversation_id}  unchanged  parse_failed\\(no_json\\) unchanged`),
  );
});
